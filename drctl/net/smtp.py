"""E-mail over SMTP with STARTTLS, connecting where the run's ``NetworkConfig`` says while verifying the real host
name."""

from __future__ import annotations

import smtplib
import socket
from email.message import EmailMessage
from email.utils import make_msgid

from drctl.net.config import NetworkConfig


class _SMTP(smtplib.SMTP):
    """Connects to the overridden address; ``_host`` keeps the real name, which STARTTLS verifies."""

    def __init__(self, host: str, port: int, *, timeout: float, network: NetworkConfig) -> None:
        self.network = network  # before connecting: the base constructor connects
        super().__init__(host, port, timeout=timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        addr, addr_port = self.network.connect_address(host, port)
        return socket.create_connection((addr, addr_port), timeout)


class InDoubt(OSError):
    """The message was being handed over when the connection timed out or dropped: it may have been delivered."""


def send(
    *,
    host: str,
    port: int,
    starttls: bool,
    username: str | None,
    password: str | None,
    sender: str,
    to: list[str],
    subject: str,
    body: str,
    timeout: float = 15.0,
    message_id: str | None = None,
    network: NetworkConfig | None = None,
) -> str:
    """Send one message; returns its Message-ID. Raises ``smtplib.SMTPException`` or ``OSError`` (``InDoubt`` when
    it may have been delivered all the same). ``network``: where to connect and what to trust (None: no overrides).

    ``message_id``: the same id for every attempt at one message, so mail systems that de-duplicate by
    Message-ID (and people reading threads) see one message, not two."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message_id = message_id or make_msgid(domain=sender.split("@", 1)[-1])
    message["Message-ID"] = message_id
    message.set_content(body)
    net = network or NetworkConfig()
    client = _SMTP(host, port, timeout=timeout, network=net)
    try:
        client.ehlo()
        if starttls:
            client.starttls(context=net.tls_context())
            client.ehlo()
        if username and password:
            client.login(username, password)
        try:
            client.send_message(message)
        except (TimeoutError, smtplib.SMTPServerDisconnected) as exc:
            # the server went quiet or away while it had the message: it may have queued it
            raise InDoubt(f"{type(exc).__name__}: {exc}") from None
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):  # the message's fate was settled before QUIT
            client.close()
    return message_id
