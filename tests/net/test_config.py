"""``NetworkConfig``: the network settings of one run as a value, read from a mapping, never from ``os.environ``."""

from __future__ import annotations

from pathlib import Path

import pytest

from drctl.errors import UsageError
from drctl.net.config import NetworkConfig
from drctl.net.http import Client, HttpError
from drctl.sandbox import estate_from_playbook
from drctl.sandbox.testing import running_sandbox
from tests.conftest import SAMPLE

API = "https://api-aue.wallet.example.com/healthz"


def test_settings_are_read_from_the_mapping_given() -> None:
    network = NetworkConfig.from_environ(
        {
            "DRCTL_RESOLVE": "API.example.com:443=127.0.0.1:8443, [::1]:80=[::1]:8080",
            "REQUESTS_CA_BUNDLE": "/etc/ca.pem",
            "DRCTL_DNS_NAMESERVER": "127.0.0.1:5353,10.0.0.2",
        }
    )
    assert network.connect_address("api.example.com", 443) == ("127.0.0.1", 8443)
    assert network.connect_address("api.example.com", 80) == ("api.example.com", 80)
    assert network.ca_bundle == "/etc/ca.pem"
    assert network.dns_servers == (("127.0.0.1", 5353), ("10.0.0.2", 53))
    assert NetworkConfig.from_environ({}) == NetworkConfig()
    assert NetworkConfig().dns_servers is None


def test_a_malformed_setting_names_the_variable_and_the_entry() -> None:
    with pytest.raises(UsageError, match="DRCTL_RESOLVE entry 'nonsense'"):
        NetworkConfig.from_environ({"DRCTL_RESOLVE": "nonsense"})
    with pytest.raises(UsageError, match="DRCTL_DNS_NAMESERVER entry 'ns:fifty'"):
        NetworkConfig.from_environ({"DRCTL_DNS_NAMESERVER": "ns:fifty"})


def test_the_process_environment_is_not_consulted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRCTL_RESOLVE", "api.example.com:443=127.0.0.1:1")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nope.pem")
    network = Client().network
    assert network == NetworkConfig()
    assert network.connect_address("api.example.com", 443) == ("api.example.com", 443)


def test_two_sandboxes_configured_side_by_side_in_one_process(tmp_path: Path) -> None:
    estate = estate_from_playbook(SAMPLE)
    with (
        running_sandbox(estate, workdir=tmp_path / "one") as one,
        running_sandbox(estate, workdir=tmp_path / "two") as two,
    ):
        two.client().set_capacity("vmss-wallet-workers-aue", 0)  # its API answers 503; the first one's, 200
        first, second = NetworkConfig.from_environ(one.env()), NetworkConfig.from_environ(two.env())
        assert first.connect_address("api-aue.wallet.example.com", 443) != second.connect_address(
            "api-aue.wallet.example.com", 443
        )
        assert first.dns_servers != second.dns_servers
        clients = [Client(network=first), Client(network=second), Client(network=first)]
        try:
            # the same name, at the same time, reaches each client's own sandbox
            assert [c.request("GET", API).status for c in clients] == [200, 503, 200]
            # each sandbox has its own CA: the first's address trusted with the second's CA is refused
            crossed = Client(network=NetworkConfig(ca_bundle=second.ca_bundle, resolve=first.resolve))
            with pytest.raises(HttpError, match=r"(?i)certificate"):
                crossed.request("GET", API)
            crossed.close()
        finally:
            for client in clients:
                client.close()
