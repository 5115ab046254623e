"""``Sandbox``: the whole local Azure on one asyncio loop in one background thread.

    with Sandbox.start(estate, faults=[...], workdir=tmp_path) as sb:
        env = sb.env()          # AZURE_*, DRCTL_*, REQUESTS_CA_BUNDLE, channel variables
        sb.client().set_region("au-east", up=False)

Listeners (all on 127.0.0.1, port 0 unless ``port_base`` is given: main = base, DNS = base+1, SMTP = base+2,
then one per app region in name order): the main HTTPS port (ARM, Entra ID token endpoint, admin API,
webhook sink), DNS (UDP+TCP), SMTP, and one HTTPS listener per region with an app. ``stop`` closes every
socket, drops every connection and joins the thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import shutil
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from drctl.errors import SandboxError
from drctl.sandbox import control
from drctl.sandbox.admin import AdminApi
from drctl.sandbox.apps import AppEndpoints
from drctl.sandbox.arm.router import ArmRouter
from drctl.sandbox.edge import FrontDoorEdge
from drctl.sandbox.entra import EntraFront
from drctl.sandbox.estate import Estate, estate_sha256, load_estate
from drctl.sandbox.faults import FaultRule, parse_faults
from drctl.sandbox.http import HttpServer, Request, Response
from drctl.sandbox.ops import RegionStatus
from drctl.sandbox.providers.containerservice.kube import KubeFront
from drctl.sandbox.providers.dns.server import DnsServer
from drctl.sandbox.sinks import WEBHOOK_PREFIX, SmtpSink, WebhookSink
from drctl.sandbox.state import World
from drctl.sandbox.tls import TlsFiles, make_tls
from drctl.sandbox.tokens import Identity, TokenIssuer

if TYPE_CHECKING:
    from drctl.sandbox.client import SandboxClient

log = logging.getLogger("drctl.sandbox")
_IDS = uuid.UUID("0d5c7a3e-9b51-4c1f-8f1b-3f2a6e9d4c20")


async def _settle(timeout: float = 5.0) -> None:
    """Cancel every other task of the loop (connection handlers, SMTP sessions, requests waiting on a fault) and
    await them, their own cancellations included, so that none is left pending or unretrieved to be reported at
    shutdown; tasks a cancellation starts are settled in the next round."""
    me = asyncio.current_task()
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        pending = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
        left = deadline - asyncio.get_running_loop().time()
        if not pending or left <= 0:
            return
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=left)
        for task in pending:
            if task.done() and not task.cancelled():
                task.exception()  # retrieved: an error of a task cut short is no news at shutdown


class Sandbox:
    """A running sandbox. Build it with ``Sandbox.start``; every public method is safe from any thread."""

    def __init__(
        self,
        estate: Estate,
        rules: list[FaultRule],
        workdir: Path,
        *,
        own_workdir: bool,
        host: str,
        port_base: int | None,
    ) -> None:
        self.estate = estate
        self.host = host
        self.workdir = workdir
        self._own_workdir = own_workdir
        self._rules = rules
        self._port_base = port_base
        self.identity = Identity(
            tenant_id=estate.identity.tenant_id or str(uuid.uuid5(_IDS, f"tenant/{estate.name}")),
            client_id=estate.identity.client_id or str(uuid.uuid5(_IDS, f"client/{estate.name}")),
            client_secret=estate.identity.client_secret or f"sbx~{secrets.token_urlsafe(30)}",
        )
        self.smtp_username = estate.smtp.username
        self.smtp_password = estate.smtp.password or secrets.token_urlsafe(18)
        self.admin_token = secrets.token_urlsafe(32)
        self.tls: TlsFiles = make_tls(workdir, estate.hostnames())
        self.world = World(estate)
        self.world.tenant_id = self.identity.tenant_id
        self.world.ca_pem = self.tls.ca.read_text(encoding="ascii")
        self.tokens = TokenIssuer(self.identity, lifetime=estate.settings.token_lifetime_seconds, clock=self.world.now)
        self._ssl = self.tls.server_context()
        self.arm = ArmRouter(self.world, self.tokens)
        self.entra = EntraFront(self.world, self.tokens)
        self.kube = KubeFront(self.world, self.tokens)
        self.admin = AdminApi(self, self.admin_token)
        self.webhooks = WebhookSink(self.world)
        self._main = HttpServer(self._handle_main, self._ssl, "main")
        self._dns = DnsServer(self.world)
        self._smtp = SmtpSink(self.world, self._ssl, username=self.smtp_username, password=self.smtp_password)
        self._apps = AppEndpoints(self.world, self._ssl, host)
        self.edge = FrontDoorEdge(self.world, self._apps)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self.main_port = self.dns_port = self.smtp_port = 0
        self.started_at = 0.0

    # ---- life cycle ------------------------------------------------------------------------------------
    @classmethod
    def start(
        cls,
        estate: Estate | str | Path | None = None,
        *,
        faults: Sequence[FaultRule | dict[str, Any]] | str | Path | None = None,
        workdir: str | Path | None = None,
        port_base: int | None = None,
        host: str = "127.0.0.1",
    ) -> Sandbox:
        """Start on free ports (or from ``port_base``) and return once every listener answers."""
        if estate is None:
            from drctl.sandbox.demo import demo_estate

            estate = demo_estate()
        elif not isinstance(estate, Estate):
            estate = load_estate(estate)
        rules = list(estate.faults) + load_faults(faults)
        own = workdir is None
        path = Path(tempfile.mkdtemp(prefix="drctl-sandbox-")) if workdir is None else Path(workdir).resolve()
        sandbox = cls(estate, rules, path, own_workdir=own, host=host, port_base=port_base)
        sandbox._launch()
        return sandbox

    def _launch(self) -> None:
        self._thread = threading.Thread(target=self._run, name="drctl-sandbox", daemon=True)
        self._thread.start()
        if not self._ready.wait(30):
            raise SandboxError("the sandbox did not start within 30 s")
        if self._startup_error is not None:
            self._thread.join(5)
            self._cleanup_workdir()
            error = self._startup_error
            if isinstance(error, SandboxError):
                raise error
            raise SandboxError(f"the sandbox could not start: {error}") from error

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            try:
                loop.run_until_complete(self._startup())
            except BaseException as exc:  # reported to the starting thread
                self._startup_error = exc
                loop.run_until_complete(self._shutdown())
                return
            finally:
                self._ready.set()
            loop.run_forever()
        finally:
            # whatever ``stop`` left (it gives up after 10 s), cancelled and awaited here, before the loop closes
            loop.run_until_complete(_settle())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    async def _startup(self) -> None:
        base = self._port_base
        regions = sorted(self.world.apps)
        try:
            self.main_port = await self._main.start(self.host, base or 0)
            self.dns_port = await self._dns.start(self.host, base + 1 if base else 0)
            self.smtp_port = await self._smtp.start(self.host, base + 2 if base else 0)
            await self._apps.start({k: base + 3 + i for i, k in enumerate(regions)} if base else {})
        except OSError as exc:
            hint = f" (ports {base}-{base + 2 + len(regions)} must be free)" if base else ""
            raise SandboxError(f"the sandbox could not listen on {self.host}: {exc.strerror or exc}{hint}") from None
        for rule in self._rules:
            control.apply_fault(self.world, rule)
        await self._apps.reconcile()
        self.started_at = time.time()

    async def _shutdown(self) -> None:
        await self._apps.stop()
        await self._smtp.stop()
        await self._dns.stop()
        await self._main.stop()
        await _settle()

    def stop(self) -> None:
        """Close every listener and connection, stop the loop, join the thread; idempotent."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            self._cleanup_workdir()
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._thread = None
        self._cleanup_workdir()

    def _cleanup_workdir(self) -> None:
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # ---- the main port ---------------------------------------------------------------------------------
    async def _handle_main(self, req: Request) -> Response:
        path = req.path
        if self.edge.matches(req.host):
            return await self.edge.handle(req)
        if AdminApi.matches(path):
            return await self.admin.handle(req)
        if path.startswith(WEBHOOK_PREFIX):
            return await self.webhooks.handle(req)
        if TokenIssuer.matches(path):
            return await self.entra.handle(req)
        if KubeFront.matches(path):
            return await self.kube.handle(req)
        return await self.arm.handle(req)

    # ---- AdminHost ---------------------------------------------------------------------------------------
    async def reconcile(self) -> None:
        await self._apps.reconcile()

    async def reset_world(self) -> None:
        self.world.reset()
        for rule in self._rules:
            control.apply_fault(self.world, rule)
        await self._apps.reconcile()

    def _run_on_loop(self, coro: Any) -> None:
        if self._loop is None or not self.running:
            raise SandboxError("the sandbox is not running")
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    # ---- what clients need -----------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"https://{self.host}:{self.main_port}"

    @property
    def arm_endpoint(self) -> str:
        return self.base_url

    @property
    def authority(self) -> str:
        return self.base_url

    @property
    def admin_url(self) -> str:
        return f"{self.base_url}/_sandbox"

    @property
    def ca_bundle(self) -> str:
        return str(self.tls.bundle)

    @property
    def subscription_id(self) -> str:
        return self.estate.subscription_id

    @property
    def dns_address(self) -> tuple[str, int]:
        return self.host, self.dns_port

    @property
    def app_ports(self) -> dict[str, int]:
        return dict(self._apps.ports)

    def app_url(self, region: str, path: str = "") -> str:
        return f"https://{self.host}:{self._apps.ports[region]}{path}"

    def resolve_map(self) -> dict[str, str]:
        """``host:port`` -> ``127.0.0.1:P``: how drctl reaches the estate's real names at the sandbox."""
        out: dict[str, str] = {}
        for key, app in self.world.apps.items():
            for name in app.hosts:
                out[f"{name}:{app.port}"] = f"{self.host}:{self._apps.ports[key]}"
        for name in self.estate.front_door_hosts():
            # Front Door is global: its edge is the main port, which no region outage closes
            out[f"{name}:443"] = f"{self.host}:{self.main_port}"
        for entry in self.estate.smtp.hosts:
            name, _, port = entry.partition(":")
            out[f"{name.lower()}:{port or 587}"] = f"{self.host}:{self.smtp_port}"
        return out

    def env(self) -> dict[str, str]:
        fields = {
            "webhook_base": f"{self.base_url}{WEBHOOK_PREFIX.rstrip('/')}",
            "smtp_host": self.host,
            "smtp_port": str(self.smtp_port),
            "smtp_username": self.smtp_username,
            "smtp_password": self.smtp_password,
            "arm_endpoint": self.arm_endpoint,
            "subscription_id": self.subscription_id,
            "tenant_id": self.identity.tenant_id,
            "client_id": self.identity.client_id,
        }
        env = {
            "AZURE_TENANT_ID": self.identity.tenant_id,
            "AZURE_CLIENT_ID": self.identity.client_id,
            "AZURE_CLIENT_SECRET": self.identity.client_secret,
            "AZURE_AUTHORITY_HOST": self.authority,
            "AZURE_SUBSCRIPTION_ID": self.subscription_id,
            "DRCTL_ARM_ENDPOINT": self.arm_endpoint,
            "REQUESTS_CA_BUNDLE": self.ca_bundle,
            "DRCTL_SANDBOX_CA": str(self.tls.ca),
            "DRCTL_DNS_NAMESERVER": f"{self.host}:{self.dns_port}",
            "DRCTL_RESOLVE": ",".join(f"{k}={v}" for k, v in self.resolve_map().items()),
            "DRCTL_SANDBOX_SMTP": f"{self.host}:{self.smtp_port}",
            "DRCTL_SANDBOX_ADMIN": self.admin_url,
            "DRCTL_SANDBOX_TOKEN": self.admin_token,
            "DRCTL_SANDBOX_ESTATE": estate_sha256(self.estate),
        }
        for name, template in self.estate.variables.items():
            env[name] = template.format(**fields)
        return env

    def endpoints(self) -> dict[str, Any]:
        return {
            "main": self.base_url,
            "arm": self.arm_endpoint,
            "authority": self.authority,
            "admin": self.admin_url,
            "dns": f"{self.host}:{self.dns_port}",
            "smtp": f"{self.host}:{self.smtp_port}",
            "apps": {k: self.app_url(k) for k in self._apps.ports},
            "resolve": self.resolve_map(),
            "ca": str(self.tls.ca),
            "ca_bundle": self.ca_bundle,
        }

    def ssl_context(self) -> ssl.SSLContext:
        """A client TLS context trusting the sandbox CA (for httpx, smtplib, http.client)."""
        return self.tls.client_context()

    def client(self) -> SandboxClient:
        from drctl.sandbox.client import SandboxClient

        return SandboxClient(self.admin_url, self.admin_token, verify=str(self.tls.ca))

    def credential(self, **kwargs: Any) -> Any:
        """An ``azure.identity.ClientSecretCredential`` for this sandbox (imported on first use)."""
        from azure.identity import ClientSecretCredential

        return ClientSecretCredential(
            self.identity.tenant_id,
            self.identity.client_id,
            self.identity.client_secret,
            authority=self.authority,
            disable_instance_discovery=True,
            connection_verify=self.ca_bundle,
            **kwargs,
        )

    # ---- in-process control (the same effects as the admin API) ---------------------------------------
    def set_region(self, region: str, *, up: bool) -> None:
        control.set_region(self.world, region, RegionStatus.UP if up else RegionStatus.DOWN)
        self._run_on_loop(self._apps.reconcile())

    def add_faults(self, rules: Sequence[FaultRule] | list[dict[str, Any]] | dict[str, Any]) -> None:
        """Apply fault rules (models, or their JSON form as in a faults file) now."""
        parsed: list[FaultRule] = []
        for rule in [rules] if isinstance(rules, dict) else rules:
            parsed += parse_faults(rule) if isinstance(rule, dict) else [rule]
        for rule in parsed:
            control.apply_fault(self.world, rule)
        self._run_on_loop(self._apps.reconcile())

    def clear_faults(self) -> int:
        return self.world.faults.clear()

    def snapshot(self) -> dict[str, Any]:
        return control.snapshot(self.world)

    def reset(self) -> None:
        self._run_on_loop(self.reset_world())


def load_faults(faults: Sequence[FaultRule | dict[str, Any]] | str | Path | None) -> list[FaultRule]:
    """Fault rules from a file, from rule objects, or from plain dicts (validated like a faults file)."""
    if faults is None:
        return []
    if isinstance(faults, str | Path):
        import yaml

        path = Path(faults)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise SandboxError(f"{path}: faults file not found") from None
        except yaml.YAMLError as exc:
            raise SandboxError(f"{path}: not valid YAML: {exc}") from None
        return parse_faults(data, source=str(path))
    rules = list(faults)
    if any(isinstance(rule, dict) for rule in rules):
        return parse_faults([r if isinstance(r, dict) else r.model_dump(mode="json") for r in rules], source="faults")
    return [r for r in rules if not isinstance(r, dict)]
