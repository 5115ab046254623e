"""How long the sandbox takes from nothing to answering its first ARM call (a script that prints figures).

    /work/venv/bin/python benchmarks/sandbox_startup.py [--runs 5]

Each run is a fresh Python process, so imports are paid as a user pays them:

* in-process: ``import drctl.sandbox`` + ``Sandbox.start()`` (certificates, every listener) + the first ARM
  call (a client-credentials token, then ``GET`` a resource group) made with the standard library;
* as a process: ``drctl sandbox up --detach`` until it answers, then the same first ARM call;
* for information, the first call through the real SDK in-process (its import alone is most of it).

Target: the whole sandbox starts and answers its first ARM call in under 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FIRST_CALL = r"""
def first_call(env):
    import http.client, json, ssl
    from urllib.parse import urlencode
    ctx = ssl.create_default_context(cafile=env["DRCTL_SANDBOX_CA"])
    port = int(env["DRCTL_ARM_ENDPOINT"].rsplit(":", 1)[1])
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx)
    form = urlencode({"grant_type": "client_credentials", "client_id": env["AZURE_CLIENT_ID"],
                      "client_secret": env["AZURE_CLIENT_SECRET"], "scope": env["DRCTL_ARM_ENDPOINT"] + "/.default"})
    conn.request("POST", "/" + env["AZURE_TENANT_ID"] + "/oauth2/v2.0/token", body=form,
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    token = json.loads(conn.getresponse().read())["access_token"]
    conn.request("GET", "/subscriptions/" + env["AZURE_SUBSCRIPTION_ID"] + "/resourcegroups/rg-wallet-aue"
                 "?api-version=2025-04-01", headers={"Authorization": "Bearer " + token})
    response = conn.getresponse()
    assert response.status == 200, response.read()
    response.read()
"""

IN_PROCESS = (
    FIRST_CALL
    + r"""
import json, sys, time
t0 = time.perf_counter()
from drctl.sandbox import Sandbox
t1 = time.perf_counter()
sandbox = Sandbox.start()
t2 = time.perf_counter()
first_call(sandbox.env())
t3 = time.perf_counter()
sdk = None
if "--sdk" in sys.argv:
    from azure.mgmt.resource.resources import ResourceManagementClient
    client = ResourceManagementClient(sandbox.credential(), sandbox.subscription_id, base_url=sandbox.arm_endpoint,
                                      connection_verify=sandbox.ca_bundle)
    client.resource_groups.get("rg-wallet-aue")
    sdk = time.perf_counter() - t3
sandbox.stop()
print(json.dumps({"import": t1 - t0, "start": t2 - t1, "first_call": t3 - t2, "total": t3 - t0, "sdk": sdk}))
"""
)

AS_PROCESS = (
    FIRST_CALL
    + r"""
import json, subprocess, sys, time
state = sys.argv[1]
t0 = time.perf_counter()
up = subprocess.run([sys.executable, "-m", "drctl", "sandbox", "up", "--detach", "--format", "json",
                     "--state-dir", state], check=True, capture_output=True, text=True)
t1 = time.perf_counter()
first_call(json.loads(up.stdout))
t2 = time.perf_counter()
subprocess.run([sys.executable, "-m", "drctl", "sandbox", "down", "--state-dir", state], check=False,
               capture_output=True)
print(json.dumps({"up": t1 - t0, "first_call": t2 - t1, "total": t2 - t0}))
"""
)


def _run(code: str, *args: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, "-c", code, *args, tmp] if "state" in code else [sys.executable, "-c", code, *args],
            check=True,
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp,
        )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs if r.get(key) is not None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    inproc = [_run(IN_PROCESS) for _ in range(args.runs)]
    print(f"in-process, median of {args.runs} fresh processes:")
    print(f"  import drctl.sandbox     {_median(inproc, 'import') * 1000:6.0f} ms")
    print(f"  Sandbox.start()          {_median(inproc, 'start') * 1000:6.0f} ms")
    print(f"  first ARM call (token+GET){_median(inproc, 'first_call') * 1000:5.0f} ms")
    print(f"  total                    {_median(inproc, 'total') * 1000:6.0f} ms   (target < 1000 ms)")
    process = [_run(AS_PROCESS) for _ in range(args.runs)]
    print(f"as a process (drctl sandbox up --detach), median of {args.runs}:")
    print(f"  up until it answers      {_median(process, 'up') * 1000:6.0f} ms")
    print(f"  first ARM call           {_median(process, 'first_call') * 1000:6.0f} ms")
    print(f"  total                    {_median(process, 'total') * 1000:6.0f} ms")
    sdk = _run(IN_PROCESS, "--sdk")
    print(
        f"for information: first call through the real SDK after start (azure imports included): "
        f"{sdk['sdk'] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
