"""The sandbox: a local Azure (ARM, Entra ID, DNS, app endpoints, notification sinks) with injectable faults.

The public surface, for the CLI, the demo and every end-to-end test::

    from drctl.sandbox import Sandbox, SandboxClient, load_estate, demo_estate, estate_from_playbook

    with Sandbox.start(demo_estate(), faults=[...], workdir=tmp_path) as sb:
        env = sb.env()

``drctl --help`` never imports this package (the CLI imports it inside the sandbox commands).
"""

from __future__ import annotations

from drctl.sandbox.client import SandboxClient
from drctl.sandbox.demo import demo_estate, demo_estate_data
from drctl.sandbox.estate import Estate, estate_from_dict, load_estate, parse_estate
from drctl.sandbox.faults import FaultRule, parse_faults
from drctl.sandbox.ops import OpKind
from drctl.sandbox.server import Sandbox

__all__ = [
    "Estate",
    "FaultRule",
    "OpKind",
    "Sandbox",
    "SandboxClient",
    "demo_estate",
    "demo_estate_data",
    "estate_from_dict",
    "load_estate",
    "parse_estate",
    "parse_faults",
]
