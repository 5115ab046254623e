"""A small typed client for the sandbox admin API (tests, the CLI's ``status``, other tools).

    client = SandboxClient.from_env()            # DRCTL_SANDBOX_ADMIN, DRCTL_SANDBOX_TOKEN, DRCTL_SANDBOX_CA
    client.set_region("au-east", up=False)
    client.add_faults([{"kind": "latency", "op": "sql.failover", "seconds": 3}])
    posts = client.requests(service="arm", method="POST")

Every call raises ``SandboxError`` with the API's message when the sandbox answers an error or cannot be
reached.
"""

from __future__ import annotations

import os
import ssl
from typing import Any

import httpx

from drctl.errors import SandboxError


class SandboxClient:
    def __init__(self, admin_url: str, token: str, *, verify: str | bool = True, timeout: float = 10.0) -> None:
        """``verify``: the sandbox CA file (``DRCTL_SANDBOX_CA``), or a bool."""
        self.admin_url = admin_url.rstrip("/")
        context: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=verify) if isinstance(verify, str) else verify
        )
        self._client = httpx.Client(
            base_url=self.admin_url, headers={"Authorization": f"Bearer {token}"}, verify=context, timeout=timeout
        )

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> SandboxClient:
        source = os.environ if env is None else env
        try:
            url, token = source["DRCTL_SANDBOX_ADMIN"], source["DRCTL_SANDBOX_TOKEN"]
        except KeyError as exc:
            raise SandboxError(f"{exc.args[0]} is not set: is a sandbox running (drctl sandbox up)?") from None
        return cls(url, token, verify=source.get("DRCTL_SANDBOX_CA") or source.get("REQUESTS_CA_BUNDLE") or True)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> SandboxClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, *, json: Any = None, params: dict[str, str] | None = None) -> Any:
        try:
            response = self._client.request(method, path, json=json, params=params)
        except httpx.HTTPError as exc:
            raise SandboxError(f"the sandbox admin API at {self.admin_url} cannot be reached: {exc}") from None
        if response.status_code >= 400:
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = response.text
            raise SandboxError(f"sandbox admin {method} {path}: {response.status_code}: {message}")
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    # ---- reading -------------------------------------------------------------------------------------
    def ping(self) -> bool:
        try:
            return self._client.get("/ping").status_code == 200
        except httpx.HTTPError:
            return False

    def state(self) -> dict[str, Any]:
        return dict(self._call("GET", "/state"))

    def env(self) -> dict[str, str]:
        return dict(self._call("GET", "/env"))

    def endpoints(self) -> dict[str, Any]:
        return dict(self._call("GET", "/endpoints"))

    def faults(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/faults")["active"])

    def requests(
        self, *, service: str | None = None, method: str | None = None, op: str | None = None
    ) -> list[dict[str, Any]]:
        params = {k: v for k, v in (("service", service), ("method", method), ("op", op)) if v}
        return list(self._call("GET", "/requests", params=params)["requests"])

    def webhooks(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/webhooks")["webhooks"])

    def emails(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/emails")["emails"])

    def data_loss(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/data-loss")["data_loss"])

    def operations(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/operations")["operations"])

    # ---- changing ------------------------------------------------------------------------------------
    def add_faults(self, rules: list[dict[str, Any]] | dict[str, Any]) -> list[dict[str, Any]]:
        return list(self._call("POST", "/faults", json=rules)["applied"])

    def clear_faults(self) -> int:
        return int(self._call("DELETE", "/faults")["cleared"])

    def remove_fault(self, fault_id: str) -> None:
        self._call("DELETE", f"/faults/{fault_id}")

    def set_region(self, region: str, *, up: bool, control_plane: str | None = None) -> None:
        body: dict[str, Any] = {"status": "up" if up else "down"}
        if control_plane:
            body["control_plane"] = control_plane
        self._call("POST", f"/regions/{region}", json=body)

    def set_replication_lag(self, seconds: float, target: str | None = None) -> list[str]:
        return list(self._call("POST", "/replication-lag", json={"seconds": seconds, "target": target})["targets"])

    def set_dns_propagation_delay(self, seconds: float) -> None:
        self._call("POST", "/dns/propagation-delay", json={"seconds": seconds})

    def set_dns_record(self, zone: str, rtype: str, name: str, values: list[str], *, ttl: int = 300) -> dict[str, Any]:
        """Change a record set out of band (another actor), bumping its ETag."""
        return dict(self._call("PUT", f"/dns/{zone}/{rtype}/{name}", json={"ttl": ttl, "values": values}))

    def delete_dns_record(self, zone: str, rtype: str, name: str) -> None:
        self._call("DELETE", f"/dns/{zone}/{rtype}/{name}")

    def set_web_app_state(self, name: str, state: str) -> None:
        self._call("POST", f"/web-apps/{name}/state", json={"state": state})

    def set_capacity(self, scale_set: str, capacity: int) -> None:
        self._call("POST", f"/scale-sets/{scale_set}/capacity", json={"capacity": capacity})

    def set_primary(self, failover_group: str, server: str) -> None:
        self._call("POST", f"/failover-groups/{failover_group}/primary", json={"server": server})

    def clear_requests(self) -> int:
        return int(self._call("DELETE", "/requests")["cleared"])

    def clear_webhooks(self) -> int:
        return int(self._call("DELETE", "/webhooks")["cleared"])

    def clear_emails(self) -> int:
        return int(self._call("DELETE", "/emails")["cleared"])

    def reset(self) -> None:
        self._call("POST", "/reset")
