"""How many ARM GETs per second the sandbox sustains from the real Azure SDK (a script that prints figures).

    /work/venv/bin/python benchmarks/sandbox_throughput.py [--seconds 5] [--threads 1,2,4] [--mode ...]

``process`` runs the sandbox as ``drctl sandbox up`` in its own process, as the demo and the end-to-end
tests do; ``inproc`` runs it in the client's process (one GIL for both). Each client thread owns a
``ResourceManagementClient`` (its own connection pool) and GETs a resource group as fast as it can; the figure
is completed calls per second over the window. The SDK spends ~2 ms of CPU per call on the client side
(azure-core pipeline, requests re-reading proxy settings from the environment on every call), so one client
thread tops out near 500/s whatever the server does; ``--client-processes 2`` shows the server's headroom.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _client(env: dict[str, str]) -> Any:
    from azure.identity import ClientSecretCredential
    from azure.mgmt.resource.resources import ResourceManagementClient

    credential = ClientSecretCredential(
        env["AZURE_TENANT_ID"],
        env["AZURE_CLIENT_ID"],
        env["AZURE_CLIENT_SECRET"],
        authority=env["AZURE_AUTHORITY_HOST"],
        disable_instance_discovery=True,
        connection_verify=env["REQUESTS_CA_BUNDLE"],
    )
    return ResourceManagementClient(
        credential,
        env["AZURE_SUBSCRIPTION_ID"],
        base_url=env["DRCTL_ARM_ENDPOINT"],
        connection_verify=env["REQUESTS_CA_BUNDLE"],
    )


def measure(env: dict[str, str], threads: int, seconds: float) -> float:
    clients = [_client(env) for _ in range(threads)]
    for client in clients:  # token and connection warm-up, outside the window
        client.resource_groups.get("rg-wallet-aue")
    counts = [0] * threads
    stop = threading.Event()

    def work(i: int) -> None:
        client = clients[i]
        while not stop.is_set():
            client.resource_groups.get("rg-wallet-aue")
            counts[i] += 1

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    time.sleep(seconds)
    stop.set()
    for worker in workers:
        worker.join()
    return sum(counts) / (time.perf_counter() - started)


def _worker(env: dict[str, str], threads: int, seconds: float, start_at: float) -> int:
    clients = [_client(env) for _ in range(threads)]
    for client in clients:
        client.resource_groups.get("rg-wallet-aue")
    counts = [0] * threads
    time.sleep(max(0.0, start_at - time.time()))
    deadline = start_at + seconds

    def work(i: int) -> None:
        while time.time() < deadline:
            clients[i].resource_groups.get("rg-wallet-aue")
            counts[i] += 1

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts)


def measure_processes(env: dict[str, str], processes: int, threads: int, seconds: float) -> float:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn")) as pool:
        start_at = time.time() + 4.0  # every worker imported and warmed up
        futures = [pool.submit(_worker, env, threads, seconds, start_at) for _ in range(processes)]
        return sum(f.result() for f in futures) / seconds


def run_process(threads: list[int], seconds: float, processes: int) -> None:
    import json

    with tempfile.TemporaryDirectory() as tmp:
        env_vars = {**os.environ, "PYTHONPATH": str(ROOT)}
        up = subprocess.run(
            [sys.executable, "-m", "drctl", "sandbox", "up", "--detach", "--format", "json", "--state-dir", tmp],
            check=True,
            capture_output=True,
            text=True,
            env=env_vars,
            cwd=tmp,
        )
        env = json.loads(up.stdout)
        try:
            for count in threads:
                rate = measure(env, count, seconds)
                print(f"sandbox process, 1 client process x {count} thread(s): {rate:7.0f} ARM GETs/s")
            if processes > 1:
                rate = measure_processes(env, processes, 1, seconds)
                print(f"sandbox process, {processes} client processes x 1 thread:  {rate:7.0f} ARM GETs/s")
        finally:
            subprocess.run(
                [sys.executable, "-m", "drctl", "sandbox", "down", "--state-dir", tmp],
                check=False,
                env=env_vars,
                cwd=tmp,
                capture_output=True,
            )


def run_inproc(threads: list[int], seconds: float) -> None:
    from drctl.sandbox import Sandbox

    with Sandbox.start() as sandbox:
        env = sandbox.env()
        for count in threads:
            rate = measure(env, count, seconds)
            print(f"sandbox in the client's process, {count} thread(s):     {rate:7.0f} ARM GETs/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--threads", default="1,2,4")
    parser.add_argument("--mode", choices=("process", "inproc", "both"), default="both")
    parser.add_argument("--client-processes", type=int, default=2)
    args = parser.parse_args()
    threads = [int(t) for t in args.threads.split(",")]
    print(f"cores: {os.cpu_count()}, window: {args.seconds:.0f} s per figure, target: >= 500 GETs/s")
    if args.mode in ("process", "both"):
        run_process(threads, args.seconds, args.client_processes)
    if args.mode in ("inproc", "both"):
        run_inproc(threads, args.seconds)


if __name__ == "__main__":
    main()
