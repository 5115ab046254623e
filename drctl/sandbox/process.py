"""The sandbox as a process: state file, serving until a signal, status, stop, and ``--detach``.

The state file (``<state dir>/sandbox.json``, mode 0600: it holds the sandbox's own secrets) records the pid,
the ports and the environment ``up`` printed, so ``status`` and ``down`` find the running sandbox.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drctl.errors import SandboxError

if TYPE_CHECKING:
    from drctl.sandbox.server import Sandbox

STATE_FILE = "sandbox.json"
LOG_FILE = "sandbox.log"
DEFAULT_STATE_DIR = Path(".drctl") / "sandbox"
#: never shown by ``status``: the sandbox's own credentials
SECRET_NAMES = frozenset({"AZURE_CLIENT_SECRET", "DRCTL_SANDBOX_TOKEN"})


@dataclass(frozen=True)
class RunningState:
    path: Path
    data: dict[str, Any]

    @property
    def pid(self) -> int:
        return int(self.data["pid"])

    @property
    def env(self) -> dict[str, str]:
        return dict(self.data["env"])

    @property
    def alive(self) -> bool:
        return pid_alive(self.pid)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (our own exited child not yet reaped) is not a running sandbox
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def read_state(state_dir: Path) -> RunningState | None:
    path = state_dir / STATE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise SandboxError(f"{path}: unreadable sandbox state file ({exc}); remove it") from None
    if not isinstance(data, dict) or "pid" not in data or "env" not in data:
        raise SandboxError(f"{path}: not a sandbox state file; remove it")
    return RunningState(path, data)


def write_state(state_dir: Path, sandbox: Sandbox) -> Path:
    state_dir.mkdir(parents=True, exist_ok=True)
    path = state_dir / STATE_FILE
    data = {
        "pid": os.getpid(),
        "started_at": sandbox.started_at,
        "estate": sandbox.estate.name,
        "endpoints": sandbox.endpoints(),
        "ports": {
            "main": sandbox.main_port,
            "dns": sandbox.dns_port,
            "smtp": sandbox.smtp_port,
            "apps": sandbox.app_ports,
        },
        "env": sandbox.env(),
    }
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out, indent=2)
    os.replace(tmp, path)
    return path


def refuse_if_running(state_dir: Path) -> None:
    state = read_state(state_dir)
    if state is not None and state.alive and state.pid != os.getpid():
        raise SandboxError(
            f"a sandbox is already running (pid {state.pid}, state in {state.path})",
            hint="stop it with: drctl sandbox down" + _dir_flag(state_dir),
        )


def serve(sandbox: Sandbox, state_dir: Path) -> None:
    """Block until SIGTERM or SIGINT, then stop cleanly and remove the state file."""
    stop = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not stop.wait(0.5):
            if not sandbox.running:
                raise SandboxError("the sandbox stopped unexpectedly; see its log")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sandbox.stop()
        state = read_state(state_dir)
        if state is not None and state.pid == os.getpid():
            with contextlib.suppress(FileNotFoundError):
                state.path.unlink()


def stop_running(state_dir: Path, *, timeout: float = 10.0) -> str:
    state = read_state(state_dir)
    if state is None:
        return f"no sandbox is running (no state file in {state_dir})"
    if not state.alive:
        state.path.unlink(missing_ok=True)
        return f"no sandbox is running: removed a stale state file (pid {state.pid} is gone)"
    started = time.monotonic()
    os.kill(state.pid, signal.SIGTERM)
    while time.monotonic() - started < timeout:
        if not state.alive:
            state.path.unlink(missing_ok=True)
            return f"sandbox stopped (pid {state.pid}) in {time.monotonic() - started:.1f} s"
        time.sleep(0.05)
    os.kill(state.pid, signal.SIGKILL)
    state.path.unlink(missing_ok=True)
    return f"sandbox (pid {state.pid}) did not stop within {timeout:.0f} s: killed"


def detach(argv: list[str], state_dir: Path, *, timeout: float = 30.0) -> RunningState:
    """Start ``drctl sandbox up`` (without --detach) in the background; return once its admin API answers."""
    state_dir.mkdir(parents=True, exist_ok=True)
    log_path = state_dir / LOG_FILE
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "drctl", "sandbox", "up", *argv, "--state-dir", str(state_dir), "--quiet"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            text = log_path.read_text(encoding="utf-8", errors="replace").strip()
            raise SandboxError(f"the sandbox exited at start (code {child.returncode}): {text[-2000:]}")
        state = read_state(state_dir)
        if state is not None and state.pid == child.pid and _answers(state):
            return state
        time.sleep(0.05)
    child.terminate()
    raise SandboxError(f"the detached sandbox did not answer within {timeout:.0f} s; see {log_path}")


def _answers(state: RunningState) -> bool:
    from drctl.sandbox.client import SandboxClient

    env = state.env
    with SandboxClient(
        env["DRCTL_SANDBOX_ADMIN"], env["DRCTL_SANDBOX_TOKEN"], verify=env.get("DRCTL_SANDBOX_CA") or True, timeout=2
    ) as client:
        return client.ping()


def format_env(env: dict[str, str], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(env, indent=2)
    if fmt == "dotenv":
        return "\n".join(f"{k}={_dotenv(v)}" for k, v in env.items())
    return "\n".join(f"export {k}={shlex.quote(v)}" for k, v in env.items())


def _dotenv(value: str) -> str:
    return value if value and all(c.isalnum() or c in "-_./:=,@~+" for c in value) else json.dumps(value)


def _dir_flag(state_dir: Path) -> str:
    return "" if state_dir == DEFAULT_STATE_DIR else f" --state-dir {shlex.quote(str(state_dir))}"


def parse_fault_flag(text: str) -> Any:
    """``--fault`` as JSON (``{"kind": "latency", ...}``) or ``kind=latency,op=sql.failover,seconds=3``."""
    text = text.strip()
    if text.startswith(("{", "[")):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise SandboxError(f"--fault {text!r}: not valid JSON: {exc}") from None
    rule: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise SandboxError(f"--fault {text!r}: expected key=value pairs such as kind=latency,seconds=2")
        rule[key.strip()] = _scalar(value.strip())
    return rule


def _scalar(value: str) -> Any:
    lowered = value.lower()
    if lowered in ("null", "none"):
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value
