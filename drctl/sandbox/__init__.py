"""The sandbox: a local Azure (ARM, Entra ID, DNS, app endpoints, notification sinks) with injectable faults.

The public surface, for the CLI, the demo and every end-to-end test::

    from drctl.sandbox import Sandbox, SandboxClient, load_estate, demo_estate, estate_from_playbook

    with Sandbox.start(demo_estate(), faults=[...], workdir=tmp_path) as sb:
        env = sb.env()

Names are imported on first use (PEP 562), so ``drctl.sandbox.process`` or ``drctl.sandbox.client`` can be
used (``drctl sandbox status|down``, ``--detach``) without paying for the server, pydantic or cryptography.
``drctl --help`` never imports this package at all.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from drctl.sandbox.client import SandboxClient
    from drctl.sandbox.demo import demo_estate, demo_estate_data
    from drctl.sandbox.estate import Estate, estate_from_dict, load_estate, parse_estate
    from drctl.sandbox.faults import FaultRule, parse_faults
    from drctl.sandbox.ops import OpKind
    from drctl.sandbox.playbook import estate_from_playbook
    from drctl.sandbox.server import Sandbox

_EXPORTS = {
    "Estate": "drctl.sandbox.estate",
    "FaultRule": "drctl.sandbox.faults",
    "OpKind": "drctl.sandbox.ops",
    "Sandbox": "drctl.sandbox.server",
    "SandboxClient": "drctl.sandbox.client",
    "demo_estate": "drctl.sandbox.demo",
    "demo_estate_data": "drctl.sandbox.demo",
    "estate_from_dict": "drctl.sandbox.estate",
    "estate_from_playbook": "drctl.sandbox.playbook",
    "load_estate": "drctl.sandbox.estate",
    "parse_estate": "drctl.sandbox.estate",
    "parse_faults": "drctl.sandbox.faults",
}

__all__ = [
    "Estate",
    "FaultRule",
    "OpKind",
    "Sandbox",
    "SandboxClient",
    "demo_estate",
    "demo_estate_data",
    "estate_from_dict",
    "estate_from_playbook",
    "load_estate",
    "parse_estate",
    "parse_faults",
]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'drctl.sandbox' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
