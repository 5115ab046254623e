"""Cross-reference rules of the estate file that pydantic cannot express.

Each rule appends ``(location, message)``; the loader turns locations into ``file:line:col: field`` text.
"""

from __future__ import annotations

import string
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drctl.sandbox.estate import Estate

#: placeholders a ``variables`` value may use, filled in at start
VARIABLE_FIELDS = (
    "webhook_base",
    "smtp_host",
    "smtp_port",
    "smtp_username",
    "smtp_password",
    "arm_endpoint",
    "subscription_id",
    "tenant_id",
    "client_id",
)


Problems = list[tuple[tuple[Any, ...], str]]


def check_estate(estate: Estate) -> Problems:
    problems: Problems = []
    _apps(estate, problems)
    _variables(estate, problems)
    from drctl.sandbox.registry import PROVIDERS

    for provider in PROVIDERS:
        provider.check(estate, problems)
    return problems


def check_placed(estate: Estate, problems: Problems, section: tuple[Any, ...], items: list[Any], what: str) -> None:
    """Every resource's region exists; names are unique (case-insensitively) when ``what`` names them."""
    for i, item in enumerate(items):
        check_region(estate, problems, (*section, i, "region"), item.region)
    if what:
        check_unique(problems, section, [item.name for item in items], what)


def check_region(estate: Estate, problems: Problems, loc: tuple[Any, ...], region: str) -> None:
    if region not in estate.regions:
        problems.append((loc, f"unknown region {region!r} (regions: {', '.join(estate.regions)})"))


def check_unique(problems: Problems, section: tuple[Any, ...], names: list[str], what: str) -> None:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name.lower() in seen:
            problems.append(((*section, i, "name"), f"duplicate {what} name {name!r}"))
        seen.add(name.lower())


def _apps(estate: Estate, problems: Problems) -> None:
    servers = {s.name.lower(): s for s in estate.sql.servers}
    hosts: dict[str, str] = {}
    for key, region in estate.regions.items():
        if region.app is None:
            continue
        loc = ("regions", key, "app")
        for j, host in enumerate(region.app.hosts):
            if host.lower() in hosts:
                problems.append(
                    ((*loc, "hosts", j), f"host {host!r} is already the app of region {hosts[host.lower()]!r}")
                )
            hosts[host.lower()] = key
        fg_name = region.app.failover_group
        if fg_name is not None:
            match = [f for f in estate.sql.failover_groups if f.name.lower() == fg_name.lower()]
            members = [servers.get(n.lower()) for n in (match[0].primary, match[0].secondary)] if match else []
            if not match:
                problems.append(((*loc, "failover_group"), f"unknown failover group {fg_name!r}"))
            elif not any(s is not None and s.region == key for s in members):
                problems.append(
                    ((*loc, "failover_group"), f"failover group {fg_name!r} has no server in region {key!r}")
                )
        for field, items in (("web_apps", estate.web_apps), ("scale_sets", estate.scale_sets)):
            local = {r.name.lower() for r in items if r.region == key}
            for j, name in enumerate(getattr(region.app, field) or []):
                if name.lower() not in local:
                    problems.append(((*loc, field, j), f"no {field[:-1].replace('_', ' ')} {name!r} in region {key!r}"))


def _variables(estate: Estate, problems: Problems) -> None:
    for name, value in estate.variables.items():
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(value) if f is not None]
        except ValueError as exc:
            problems.append((("variables", name), f"malformed template: {exc}"))
            continue
        for field in fields:
            if field not in VARIABLE_FIELDS:
                problems.append(
                    (("variables", name), f"unknown placeholder {{{field}}} (known: {', '.join(VARIABLE_FIELDS)})")
                )
