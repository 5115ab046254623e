"""Safety rule 1, the target's health check: does a probe really reach the target region?

A ``health.http`` step labelled ``region: target`` (or on a ``${{ target.* }}`` URL) guards the DNS move only if
its URL's host belongs to the target region's estate as the playbook declares it: the host of its
``health_url`` or ``replication_url``, one of its DNS values (an address or a CNAME target), or one of its web
apps' ``<name>.azurewebsites.net``. A host of the source's estate, a host both regions share (a global name that
still points at the source before the DNS move) or a host the playbook does not tie to the target proves nothing
about the target, so such a probe does not count, and validate says why at the URL.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from drctl.playbook.model import Playbook, RegionEstate

WEB_APP_DOMAIN = ".azurewebsites.net"


def estate_hosts(region: RegionEstate) -> dict[str, str]:
    """Every host name (or address) the playbook ties to ``region``, with what ties it."""
    found: dict[str, str] = {}
    for field in ("health_url", "replication_url"):
        url = getattr(region, field)
        host = host_of(url) if url else None
        if host:
            found.setdefault(host, field)
    for record, value in region.dns.items():
        found.setdefault(value.strip().rstrip(".").lower(), f"its DNS value for {record!r}")
    for app in region.web_apps:
        found.setdefault(f"{app}{WEB_APP_DOMAIN}".lower(), f"web app {app}")
    return found


def host_of(url: str) -> str | None:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.rstrip(".").lower() if host else None


def wrong_region(pb: Playbook, *, source: str, target: str, url: str) -> str | None:
    """Why a probe of ``url`` is not a health check of ``target``; None when its host is the target's."""
    if "${" in url:
        return f"{url} names an environment variable, so validate cannot tell which region it probes"
    host = host_of(url)
    if host is None:
        return f"{url} has no host"
    theirs = estate_hosts(pb.regions[source])
    ours = estate_hosts(pb.regions[target])
    if host in theirs and host in ours:
        return f"{host} belongs to both regions ({source} and {target}), so it may reach the source"
    if host in theirs:
        return f"{host} is the source region {source}'s ({theirs[host]}), not the target's"
    if host not in ours:
        return (
            f"{host} is not a host of the target region {target}'s estate (its health_url, replication_url, DNS "
            "values or web apps)"
        )
    return None
