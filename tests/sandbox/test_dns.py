"""DNS zones and record sets through ARM (ETags, preconditions) and the authoritative DNS server (dnspython)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.resolver
import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drctl.sandbox import Sandbox

ZONE = ("rg-wallet-dns", "wallet.example.com")


def _resolver(sb: Sandbox) -> dns.resolver.Resolver:
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = sb.dns_port
    resolver.cache = None
    return resolver


def _query(sb: Sandbox, name: str, rtype: str = "A", *, tcp: bool = False) -> dns.message.Message:
    query = dns.message.make_query(name, rtype)
    send = dns.query.tcp if tcp else dns.query.udp
    return send(query, "127.0.0.1", port=sb.dns_port, timeout=2)


def _a(values: list[str], ttl: int = 300) -> Any:
    from azure.mgmt.dns.models import ARecord, RecordSet

    return RecordSet(ttl=ttl, a_records=[ARecord(ipv4_address=v) for v in values])


def test_zones_show_name_servers_and_counts(sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    client = sdk(sandbox).dns
    zone = client.zones.get(*ZONE)
    assert zone.name_servers == [
        "ns1-01.azure-dns.com",
        "ns2-01.azure-dns.net",
        "ns3-01.azure-dns.org",
        "ns4-01.azure-dns.info",
    ]
    assert zone.number_of_record_sets == 4  # SOA, NS, api, portal
    assert [z.name for z in client.zones.list()] == ["wallet.example.com"]
    assert [z.name for z in client.zones.list_by_resource_group("rg-wallet-dns")] == ["wallet.example.com"]


def test_record_sets_get_and_list(sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    client = sdk(sandbox).dns
    api = client.record_sets.get(*ZONE, "api", "A")
    assert (api.ttl, [r.ipv4_address for r in api.a_records], api.fqdn) == (
        3600,
        ["20.1.1.1"],
        "api.wallet.example.com.",
    )
    assert api.etag
    portal = client.record_sets.get(*ZONE, "portal", "CNAME")
    assert portal.cname_record.cname == "app-wallet-portal-aue.azurewebsites.net"
    everything = {(r.name, r.type.rsplit("/", 1)[1]) for r in client.record_sets.list_all_by_dns_zone(*ZONE)}
    assert everything == {("@", "NS"), ("@", "SOA"), ("api", "A"), ("portal", "CNAME")}
    assert [r.name for r in client.record_sets.list_by_type(*ZONE, "A")] == ["api"]
    with pytest.raises(ResourceNotFoundError):
        client.record_sets.get(*ZONE, "nope", "A")


def test_each_write_changes_the_etag_and_if_match_guards_it(fresh_sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    client = sdk(fresh_sandbox).dns
    before = client.record_sets.get(*ZONE, "api", "A")
    after = client.record_sets.create_or_update(*ZONE, "api", "A", _a(["20.2.2.2"]), if_match=before.etag)
    assert after.etag != before.etag
    assert after.ttl == 300
    with pytest.raises(HttpResponseError) as stale:
        client.record_sets.create_or_update(*ZONE, "api", "A", _a(["20.3.3.3"]), if_match=before.etag)
    assert stale.value.status_code == 412
    assert stale.value.error.code == "PreconditionFailed"
    with pytest.raises(HttpResponseError) as exists:
        client.record_sets.create_or_update(*ZONE, "api", "A", _a(["20.3.3.3"]), if_none_match="*")
    assert exists.value.status_code == 412
    created = client.record_sets.create_or_update(*ZONE, "new", "A", _a(["10.0.0.1"]), if_none_match="*")
    assert created.name == "new"
    patched = client.record_sets.update(*ZONE, "api", "A", _a(["20.4.4.4"], ttl=60), if_match=after.etag)
    assert patched.ttl == 60
    assert patched.etag != after.etag
    client.record_sets.delete(*ZONE, "new", "A")
    with pytest.raises(ResourceNotFoundError):
        client.record_sets.get(*ZONE, "new", "A")


def test_the_etag_header_echoes_the_body(fresh_sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    client = sdk(fresh_sandbox).dns
    record, headers = client.record_sets.get(*ZONE, "api", "A", cls=lambda r, d, h: (d, r.http_response.headers))
    assert headers["ETag"] == record.etag


def test_an_out_of_band_change_makes_a_held_etag_stale(fresh_sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    client = sdk(fresh_sandbox).dns
    held = client.record_sets.get(*ZONE, "api", "A").etag
    fresh_sandbox.client().set_dns_record("wallet.example.com", "A", "api", ["198.51.100.7"], ttl=120)
    with pytest.raises(HttpResponseError) as err:
        client.record_sets.create_or_update(*ZONE, "api", "A", _a(["20.2.2.2"]), if_match=held)
    assert err.value.status_code == 412


def test_the_dns_server_answers_authoritatively_over_udp_and_tcp(sandbox: Sandbox) -> None:
    for tcp in (False, True):
        answer = _query(sandbox, "api.wallet.example.com", tcp=tcp)
        assert answer.flags & dns.flags.AA
        assert answer.rcode() == dns.rcode.NOERROR
        (rrset,) = answer.answer
        assert (rrset.ttl, [r.to_text() for r in rrset]) == (3600, ["20.1.1.1"])
    soa = _query(sandbox, "wallet.example.com", "SOA").answer[0]
    assert soa[0].mname.to_text() == "ns1-01.azure-dns.com."
    ns = _query(sandbox, "wallet.example.com", "NS").answer[0]
    assert len(ns) == 4


def test_unknown_names_are_nxdomain_with_the_soa_and_others_refused(sandbox: Sandbox) -> None:
    missing = _query(sandbox, "nope.wallet.example.com")
    assert missing.rcode() == dns.rcode.NXDOMAIN
    assert missing.flags & dns.flags.AA
    assert missing.authority[0].rdtype == dns.rdatatype.SOA
    nodata = _query(sandbox, "api.wallet.example.com", "AAAA")
    assert nodata.rcode() == dns.rcode.NOERROR
    assert not nodata.answer
    assert nodata.authority
    outside = _query(sandbox, "www.example.org")
    assert outside.rcode() == dns.rcode.REFUSED
    assert not outside.flags & dns.flags.AA


def test_a_cname_is_answered_and_the_resolver_sees_it(sandbox: Sandbox) -> None:
    answer = _resolver(sandbox).resolve("portal.wallet.example.com", "CNAME")
    assert answer[0].target.to_text() == "app-wallet-portal-aue.azurewebsites.net."
    assert answer.rrset is not None
    assert answer.rrset.ttl == 3600


def test_a_record_change_through_arm_is_seen_by_a_resolver(fresh_sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    resolver = _resolver(fresh_sandbox)
    assert [r.to_text() for r in resolver.resolve("api.wallet.example.com", "A")] == ["20.1.1.1"]
    sdk(fresh_sandbox).dns.record_sets.create_or_update(*ZONE, "api", "A", _a(["20.70.20.20"]))
    answer = resolver.resolve("api.wallet.example.com", "A")
    assert [r.to_text() for r in answer] == ["20.70.20.20"]
    assert answer.rrset is not None
    assert answer.rrset.ttl == 300


def test_a_propagation_delay_holds_the_old_answer(fresh_sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    fresh_sandbox.client().set_dns_propagation_delay(1.5)
    resolver = _resolver(fresh_sandbox)
    written = time.monotonic()
    sdk(fresh_sandbox).dns.record_sets.create_or_update(*ZONE, "api", "A", _a(["20.70.20.20"]))
    assert [r.to_text() for r in resolver.resolve("api.wallet.example.com", "A")] == ["20.1.1.1"]
    while [r.to_text() for r in resolver.resolve("api.wallet.example.com", "A")] != ["20.70.20.20"]:
        assert time.monotonic() - written < 5
        time.sleep(0.05)
    assert time.monotonic() - written >= 1.45


def test_aaaa_and_txt_record_sets_round_trip_to_the_dns_server(fresh_sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    from azure.mgmt.dns.models import AaaaRecord, RecordSet, TxtRecord

    client = sdk(fresh_sandbox).dns
    client.record_sets.create_or_update(
        *ZONE, "api", "AAAA", RecordSet(ttl=120, aaaa_records=[AaaaRecord(ipv6_address="2001:db8::7")])
    )
    client.record_sets.create_or_update(
        *ZONE, "_dr", "TXT", RecordSet(ttl=60, txt_records=[TxtRecord(value=["failover=au-southeast"])])
    )
    assert client.record_sets.get(*ZONE, "_dr", "TXT").txt_records[0].value == ["failover=au-southeast"]
    resolver = _resolver(fresh_sandbox)
    assert [r.to_text() for r in resolver.resolve("api.wallet.example.com", "AAAA")] == ["2001:db8::7"]
    assert [r.to_text() for r in resolver.resolve("_dr.wallet.example.com", "TXT")] == ['"failover=au-southeast"']
    with pytest.raises(HttpResponseError) as err:  # a CNAME cannot join the A and AAAA sets of "api"
        client.record_sets.create_or_update(*ZONE, "api", "CNAME", RecordSet(ttl=60, cname_record={"cname": "x.y"}))
    assert err.value.status_code == 409


def test_a_deleted_record_becomes_nxdomain(fresh_sandbox: Sandbox, sdk: Callable[..., Any]) -> None:
    sdk(fresh_sandbox).dns.record_sets.delete(*ZONE, "api", "A")
    assert _query(fresh_sandbox, "api.wallet.example.com").rcode() == dns.rcode.NXDOMAIN


_LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=20).filter(
    lambda s: not s.startswith("-") and not s.endswith("-")
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    labels=st.lists(_LABEL, min_size=1, max_size=4),
    inside=st.booleans(),
    rtype=st.sampled_from(["A", "AAAA", "CNAME", "TXT", "MX", "SOA", "NS", "ANY"]),
)
def test_any_name_gets_a_well_formed_answer(sandbox: Sandbox, labels: list[str], inside: bool, rtype: str) -> None:
    name = ".".join(labels) + (".wallet.example.com" if inside else ".example.net")
    answer = _query(sandbox, name, rtype)
    if inside:
        assert answer.flags & dns.flags.AA
        assert answer.rcode() in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN)
    else:
        assert answer.rcode() == dns.rcode.REFUSED
