"""``estate_from_playbook``: the estate a playbook references, seeded as a run of a given direction expects it.

Forward (a failover or a drill): the estate as it stands before an incident. Reversed (a failback): as it stands
after a failover, the playbook's target holding the primary and its source the warm standby. In both:

* the home region (forward: the direction's source; reversed: its target) holds the primary: failover-group
  primary, web apps running, scale sets at the playbook's capacity, DNS records at the home region's values with
  the steady-state TTL of 300 s the operations appendix sets (a record with a longer TTL makes clients switch
  later than the RTO allows: ``plan --preflight`` flags it, and a test seeds 3600 s to show the breach);
* the other region of the direction is a warm standby: failover-group secondary (CATCH_UP), web apps stopped,
  scale sets at 1; each geo-redundant storage account has its primary in the one of the pair it is not declared
  in when reversed (an account failover moved it; replication was set up again towards its home);
* other regions' resources exist, stopped;
* every ``${VAR}`` a notification channel uses gets a value pointing at the sandbox (webhook URLs at the
  webhook sink, SMTP user and password at the SMTP sink's), printed with the environment; a ``${VAR}``
  subscription or tenant gets the sandbox's.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from drctl.errors import SandboxError
from drctl.sandbox.estate import Estate, estate_from_dict
from drctl.sandbox.providers.base import Seeding
from drctl.sandbox.registry import PROVIDERS

if TYPE_CHECKING:
    from drctl.playbook.model import Playbook, RegionEstate

_ENV = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_SEED = uuid.UUID("a1d3c0e2-57f4-4b8e-9c3a-4e0f6b2d8a17")


def estate_from_playbook(source: str | Path | Playbook, *, reverse: bool = False) -> Estate:
    """Build the estate for a playbook file (validated first: an invalid one is ``PlaybookError``) or model;
    ``reverse``: as a failback finds it, after a failover (see ``reverse_for``)."""
    if isinstance(source, str | Path):
        from drctl.planning.load import load_playbook

        playbook = load_playbook(source).playbook
        where = str(source)
    else:
        playbook = source
        where = f"<playbook {playbook.name}>"
    data = estate_data_from_playbook(playbook, reverse=reverse)
    return estate_from_dict(data, source=f"estate seeded from {where}")


def reverse_for(mode: str) -> bool:
    """Whether a run of ``mode`` starts from the failed-over estate: a failback does (it returns home after a
    failover); a failover and a drill (whose failover half comes first) start from the estate before an
    incident."""
    return str(mode) == "failback"


def _var(value: str | None) -> str | None:
    match = _ENV.match(value.strip()) if value else None
    return match.group(1) if match else None


def estate_data_from_playbook(playbook: Playbook, *, reverse: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": playbook.name,
        "regions": {},
        "smtp": {"hosts": []},
        "variables": {},
    }
    _identity(playbook, data)
    home, standby = _roles(playbook, reverse=reverse)
    _regions(playbook, data)
    # each service seeds its own part (drctl.sandbox.providers.*): resource groups first, then what lives in them
    seeding = Seeding(playbook, home=home, standby=standby)
    for provider in PROVIDERS:
        provider.seed(seeding, data)
    if playbook.notifications is not None:
        _channels(playbook, data)
    return data


def _identity(playbook: Playbook, data: dict[str, Any]) -> None:
    variables: dict[str, str] = data["variables"]
    subscription = playbook.azure.subscription.strip()
    sub_var = _var(subscription)
    if sub_var:
        subscription = str(uuid.uuid5(_SEED, f"subscription/{playbook.name}"))
        if sub_var != "AZURE_SUBSCRIPTION_ID":
            variables[sub_var] = "{subscription_id}"
    elif not _GUID.match(subscription):
        raise SandboxError(f"playbook azure.subscription {subscription!r} is neither a GUID nor a ${{VAR}}")
    data["subscription_id"] = subscription
    data["identity"] = {}
    tenant = (playbook.azure.tenant or "").strip()
    tenant_var = _var(tenant)
    if tenant_var and tenant_var != "AZURE_TENANT_ID":
        variables[tenant_var] = "{tenant_id}"
    elif not tenant_var and _GUID.match(tenant):
        data["identity"]["tenant_id"] = tenant


def _roles(playbook: Playbook, *, reverse: bool) -> tuple[str, str]:
    """The region that holds the primary and the warm standby."""
    source, target = playbook.direction.source, playbook.direction.target
    return (target, source) if reverse else (source, target)


def _regions(playbook: Playbook, data: dict[str, Any]) -> None:
    for key, region in playbook.regions.items():
        data["regions"][key] = {"location": region.location, **_app(key, region)}


def _app(key: str, region: RegionEstate) -> dict[str, Any]:
    urls = [u for u in (region.health_url, region.replication_url) if u]
    if not urls:
        return {}
    hosts: list[str] = []
    port = 443
    for url in urls:
        parsed = urlparse(url)
        if parsed.scheme != "https":
            raise SandboxError(f"playbook regions.{key}: the sandbox serves app endpoints over HTTPS only ({url})")
        if parsed.hostname and parsed.hostname.lower() not in hosts:
            hosts.append(parsed.hostname.lower())
        port = parsed.port or port
    health = (urlparse(region.health_url).path or "/") if region.health_url else "/healthz"
    replication = (urlparse(region.replication_url).path or "/") if region.replication_url else None
    return {"app": {"hosts": hosts, "port": port, "health_path": health, "replication_path": replication}}


def _channels(playbook: Playbook, data: dict[str, Any]) -> None:
    from drctl.playbook.model import EmailChannel, SlackChannel, TeamsChannel, WebhookChannel

    assert playbook.notifications is not None
    variables: dict[str, str] = data["variables"]
    for name, channel in playbook.notifications.channels.items():
        if isinstance(channel, SlackChannel | TeamsChannel):
            _set(variables, channel.webhook, f"{{webhook_base}}/{name}")
        elif isinstance(channel, WebhookChannel):
            _set(variables, channel.url, f"{{webhook_base}}/{name}")
            for header in channel.headers.values():
                _set(variables, header, f"sandbox-{name}-header")
        elif isinstance(channel, EmailChannel):
            smtp = channel.smtp
            host_var = _var(smtp.host)
            if host_var:
                _set(variables, smtp.host, "{smtp_host}")
            else:
                entry = f"{smtp.host.lower()}:{smtp.port}"
                if entry not in data["smtp"]["hosts"]:
                    data["smtp"]["hosts"].append(entry)
            _set(variables, smtp.username, "{smtp_username}")
            _set(variables, smtp.password, "{smtp_password}")


def _set(variables: dict[str, str], reference: str | None, value: str) -> None:
    name = _var(reference)
    if name:
        variables.setdefault(name, value)
