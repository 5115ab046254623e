"""The in-process sandbox stops without a word (issue 11, item 6): every task of its loop is cancelled and awaited
at shutdown, so nothing is printed, whatever was in flight: open TCP DNS, HTTPS and SMTP connections, a TLS
handshake never finished, a request waiting on a latency fault. A child process captures all of stderr (asyncio
reports through logging's last-resort handler there)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

CHILD = r"""
import smtplib, socket, ssl, sys, threading, time, urllib.request
from drctl.sandbox import Sandbox, estate_from_playbook

estate = estate_from_playbook(sys.argv[1])
for round in range(int(sys.argv[2])):
    sandbox = Sandbox.start(estate)
    host = "127.0.0.1"
    held = [socket.create_connection((host, sandbox.main_port))]  # TCP only: the TLS handshake never comes
    tls = ssl.create_default_context(cafile=sandbox.ca_bundle)
    half = tls.wrap_socket(socket.create_connection((host, sandbox.main_port)), server_hostname=host)
    half.sendall(b"GET /_sandbox/state HTTP/1.1\r\nHost: x\r\n")  # a request head never finished
    held.append(half)
    smtp = smtplib.SMTP(host, sandbox.smtp_port, timeout=5)
    smtp.ehlo()
    smtp.starttls(context=tls)
    smtp.ehlo()  # an SMTP session over TLS, never ended
    held.append(smtp.sock)
    dns_host, dns_port = sandbox.dns_address
    query = socket.create_connection((dns_host, dns_port))
    query.sendall(b"\x00")  # a TCP DNS query, half sent
    held.append(query)
    sandbox.add_faults([{"kind": "latency", "op": "app.health", "seconds": 30}])
    region, port = sorted(sandbox.app_ports.items())[0]

    def waiting() -> None:
        try:
            urllib.request.urlopen(f"https://{host}:{port}/healthz", context=tls, timeout=40)
        except Exception:
            pass

    threading.Thread(target=waiting, daemon=True).start()
    time.sleep(0.3)  # the health request is in the sandbox, waiting on its fault
    started = time.monotonic()
    sandbox.stop()
    assert time.monotonic() - started < 15, "stop waited for the fault"
    for sock in held:
        sock.close()
print("stopped cleanly", flush=True)
"""


def test_stopping_with_everything_in_flight_prints_nothing() -> None:
    from tests.conftest import SAMPLE

    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(SAMPLE), "4"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )

    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "stopped cleanly"
    assert result.stderr == "", result.stderr[-3000:]
