"""Azure for a run: check the credentials before anything runs, and the embedded sandbox behind ``--sandbox``.

``--sandbox`` starts a sandbox seeded from the playbook in this process and stops it afterwards. Its environment
(ARM endpoint, authority, CA, DNS server, the channels' webhook and SMTP variables) is laid over the process's in
one read-only mapping, ``run_environ``, from which the run's configuration values are built once
(``AzureConfig``, ``NetworkConfig``) and its ``${ENV}`` values read: the run then drives the real Azure SDK path
against the sandbox exactly as against Azure, and ``os.environ`` is never written.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drctl.azure.clients import AzureClients
    from drctl.engine.events import Environment
    from drctl.planning.load import LoadedPlaybook


def run_environ(sandbox: Any = None) -> Mapping[str, str]:
    """The run's environment, read once: the process's, with the embedded ``sandbox``'s settings over it."""
    environ = dict(os.environ)
    if sandbox is not None:
        environ.update(sandbox.env())
    return MappingProxyType(environ)


def uses_azure(loaded: LoadedPlaybook) -> bool:
    from drctl.actions import registry

    return any((spec := registry.get(step.uses)) is not None and spec.needs_azure for step in loaded.playbook.steps)


def connect(loaded: LoadedPlaybook, environ: Mapping[str, str]) -> AzureClients:
    """Clients for the run, with a token already in hand: a bad secret or an unreachable authority stops the run
    here, before the journal exists and before anything is changed (exit 8)."""
    from drctl.azure.clients import AzureClients
    from drctl.azure.config import load_config
    from drctl.engine.identity import set_principal_resolver

    config = load_config(playbook_subscription=loaded.playbook.azure.subscription, environ=environ)
    clients = AzureClients(config)
    principal = clients.check_credentials()
    set_principal_resolver(lambda: principal)
    print(f"azure: {config.describe()}, as {principal}", file=sys.stderr)
    return clients


def environment_for(
    loaded: LoadedPlaybook, environ: Mapping[str, str], *, sandbox: Any = None, faults: tuple[str, ...] = ()
) -> Environment:
    """Where a run of ``loaded`` runs, from the configuration alone (no credentials, no network): the embedded
    ``sandbox``, a sandbox of ``drctl sandbox up`` (its environment is exported), or Azure."""
    from drctl.azure.config import load_config
    from drctl.engine.events import Environment, target_digest

    if sandbox is not None:
        from drctl.sandbox.estate import estate_sha256

        return Environment(
            kind="sandbox",
            arm_endpoint=sandbox.arm_endpoint,
            tenant=sandbox.identity.tenant_id,
            subscription=sandbox.subscription_id,
            estate_sha256=estate_sha256(sandbox.estate),
            embedded=True,
            faults=faults,
            target_sha256=target_digest(sandbox.arm_endpoint, sandbox.subscription_id),
        )
    if not uses_azure(loaded):
        return Environment(kind="none")
    config = load_config(playbook_subscription=loaded.playbook.azure.subscription, environ=environ)
    external = bool(environ.get("DRCTL_SANDBOX_ADMIN"))
    return Environment(
        kind="sandbox" if external else "azure",
        estate_sha256=(environ.get("DRCTL_SANDBOX_ESTATE") or None) if external else None,
        arm_endpoint=config.arm_endpoint,
        tenant=config.tenant_id,
        subscription=config.subscription_id,
        target_sha256=target_digest(config.arm_endpoint, config.subscription_id),
    )


@contextmanager
def sandbox_environment(
    loaded: LoadedPlaybook, faults: list[str], workdir: Path, *, reverse: bool = False
) -> Iterator[Any]:
    """Run the body with an embedded sandbox seeded from the playbook already loaded (``run_environ`` gives its
    settings); ``reverse``: seeded as a failback finds the estate (the playbook's target holds the primary)."""
    from drctl.sandbox import process
    from drctl.sandbox.faults import parse_faults
    from drctl.sandbox.playbook import estate_from_playbook
    from drctl.sandbox.server import Sandbox

    rules = []
    for text in faults:
        rules += parse_faults(process.parse_fault_flag(text), source=f"--sandbox-fault {text}")
    workdir.mkdir(parents=True, exist_ok=True)
    sandbox = Sandbox.start(estate_from_playbook(loaded.playbook, reverse=reverse), faults=rules, workdir=workdir)
    try:
        state = " as failed over (target primary)" if reverse else ""
        print(f"sandbox: a local Azure seeded from {loaded.display}{state} at {sandbox.arm_endpoint}", file=sys.stderr)
        yield sandbox
    finally:
        sandbox.stop()


def sandbox_summary(sandbox: Any) -> str:
    """The sandbox's state at the end: what the run changed, for the operator to see at a glance."""
    snap = sandbox.snapshot()
    lines = ["sandbox state after the run:"]
    for name, group in snap.get("failover_groups", {}).items():
        lines.append(f"  failover group {name}: primary {group['primary']}")
    for name, state in snap.get("web_apps", {}).items():
        lines.append(f"  web app {name}: {state['state']}")
    for name, state in snap.get("scale_sets", {}).items():
        lines.append(f"  scale set {name}: capacity {state['capacity']}")
    for zone, data in snap.get("dns", {}).items():
        for record in data.get("served", []):
            values = ", ".join(record["values"])
            lines.append(f"  DNS {record['name']}.{zone} {record['type']} {values} TTL {record['ttl']}")
    for loss in snap.get("data_loss", []):
        lines.append(
            f"  data lost by a forced failover of {loss.get('failover_group', loss.get('account', '?'))}: "
            f"{loss.get('lost_seconds')} s of committed writes"
        )
    return "\n".join(lines)
