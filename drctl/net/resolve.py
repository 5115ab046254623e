"""``DRCTL_RESOLVE=host:port=addr:port,...``: where to connect for a name, like curl's --resolve.

The settings live in ``net.config.NetworkConfig``; these read them from an explicit mapping, never from the
process environment.
"""

from __future__ import annotations

from collections.abc import Mapping

from drctl.net.config import NetworkConfig, parse_overrides

__all__ = ["connect_address", "parse_overrides"]


def connect_address(host: str, port: int, environ: Mapping[str, str]) -> tuple[str, int]:
    return NetworkConfig.from_environ(environ).connect_address(host, port)
