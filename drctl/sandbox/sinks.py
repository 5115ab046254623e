"""Capture sinks for notifications: a webhook receiver (HTTPS, main port) and an SMTP server (aiosmtpd).

Both record what drctl sent so tests and demos can read it back through the admin API. The SMTP sink offers
STARTTLS with the sandbox certificate and requires AUTH (LOGIN or PLAIN, after STARTTLS) with the configured
credentials, as a real relay on port 587 would.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import secrets
import ssl
import uuid
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from drctl.sandbox.clock import iso
from drctl.sandbox.http import Request, Response, text_response
from drctl.sandbox.ops import OpKind, Service
from drctl.sandbox.state import World

WEBHOOK_PREFIX = "/_sinks/webhook/"
_SECRET_HEADERS = frozenset({"authorization", "cookie", "x-api-key", "api-key", "proxy-authorization"})


class WebhookSink:
    def __init__(self, world: World) -> None:
        self.world = world

    async def handle(self, req: Request) -> Response:
        response = await self._answer(req)
        self.world.log_request(
            {
                "service": Service.WEBHOOK.value,
                "method": req.method,
                "path": req.raw_path,
                "status": response.status,
                "time": iso(req.received_at),
                "op": OpKind.SINK_WEBHOOK.value,
            }
        )
        return response

    async def _answer(self, req: Request) -> Response:
        fault = self.world.faults.take_error(OpKind.SINK_WEBHOOK)
        if fault is not None:
            status = getattr(fault, "status", 429)
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            return text_response(status, f"sandbox fault: {getattr(fault, 'code', 'TooManyRequests')}\n", headers)
        delay = self.world.faults.latency(OpKind.SINK_WEBHOOK)
        if delay > 0:
            await asyncio.sleep(delay)
        text = req.body.decode("utf-8", "replace")
        try:
            body: Any = json.loads(text) if text else None
            is_json = True
        except ValueError:
            body, is_json = text, False
        key = req.headers.get("idempotency-key")
        entry = {
            "id": str(uuid.uuid4()),
            "time": iso(req.received_at),
            "idempotency_key": key,
            "duplicate_of": None,
            "channel": req.path[len(WEBHOOK_PREFIX) :].split("/", 1)[0],
            "method": req.method,
            "path": req.path,
            "query": dict(req.query),
            "headers": {k: v for k, v in req.headers.items() if k not in _SECRET_HEADERS},
            "json": is_json,
            "body": body,
        }
        with self.world.lock:
            # every delivery is kept (Slack and Teams would show each); a repeat of a key is marked, as a receiver
            # that honours Idempotency-Key would recognise it
            if key:
                entry["duplicate_of"] = next(
                    (w["id"] for w in self.world.webhooks if w.get("idempotency_key") == key), None
                )
            self.world.webhooks.append(entry)
        # Slack answers "ok"; Teams and generic receivers accept any 2xx
        return text_response(200, "ok")


class SmtpSink:
    """An aiosmtpd server on the sandbox loop (no extra thread)."""

    def __init__(self, world: World, ssl_context: ssl.SSLContext, *, username: str, password: str) -> None:
        self.world = world
        self._ssl = ssl_context
        self._username = username.encode()
        self._password = password.encode()
        self._server: asyncio.AbstractServer | None = None
        self.port = 0

    async def start(self, host: str, port: int) -> int:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, host, port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def _protocol(self) -> SMTP:
        import logging

        # aiosmtpd logs a deprecation of its own Session.login_data on every AUTH, into the operator's terminal
        logging.getLogger("mail.log").setLevel(logging.ERROR)
        return SMTP(
            self,
            hostname="smtp.sandbox.drctl",
            ident="drctl sandbox ESMTP",
            tls_context=self._ssl,
            require_starttls=True,
            auth_required=True,
            auth_require_tls=True,
            authenticator=self._authenticate,
            loop=asyncio.get_running_loop(),
        )

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if mechanism not in ("LOGIN", "PLAIN") or not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = secrets.compare_digest(auth_data.login, self._username) and secrets.compare_digest(
            auth_data.password, self._password
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data.login.decode("utf-8", "replace"))

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        fault = self.world.faults.take_error(OpKind.SINK_SMTP)
        if fault is not None:
            status = getattr(fault, "status", 451)
            code = status if 421 <= status <= 554 else 451
            return f"{code} 4.3.0 Temporary failure (sandbox fault)"
        delay = self.world.faults.latency(OpKind.SINK_SMTP)
        if delay > 0:
            await asyncio.sleep(delay)
        raw = envelope.original_content or (envelope.content if isinstance(envelope.content, bytes) else b"")
        message = email.message_from_bytes(raw, policy=email.policy.default)
        part = message.get_body(preferencelist=("plain", "html")) if message.is_multipart() else message
        body = part.get_content() if part is not None else ""
        entry = {
            "id": str(uuid.uuid4()),
            "time": iso(self.world.now()),
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "subject": str(message.get("Subject", "")),
            "from": str(message.get("From", "")),
            "to": str(message.get("To", "")),
            "message_id": str(message.get("Message-ID", "")),
            "body": body if isinstance(body, str) else repr(body),
            "size": len(raw),
            "tls": session.ssl is not None,
            "auth_user": session.auth_data if isinstance(session.auth_data, str) else None,
        }
        with self.world.lock:
            self.world.emails.append(entry)
            self.world.log_request(
                {
                    "service": Service.SMTP.value,
                    "method": "DATA",
                    "path": ",".join(envelope.rcpt_tos),
                    "status": 250,
                    "time": entry["time"],
                    "op": OpKind.SINK_SMTP.value,
                }
            )
        return "250 Message accepted for delivery"
