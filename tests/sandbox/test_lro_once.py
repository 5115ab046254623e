"""Long-running operations started once and followed by URL, through the real SDK pipeline, on a sandbox.

``drctl.azure.lro.begin`` sends the initial request and returns the URLs at once; ``poll`` reads the operation
from those URLs alone (as a resumed process does); the sandbox refuses a second failover of a group while one
runs, as ARM does.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from azure.core.exceptions import HttpResponseError

from drctl.azure import lro
from drctl.azure import sql as azure_sql
from drctl.azure.clients import AzureClients
from drctl.azure.config import load_config
from drctl.sandbox import Sandbox

AUS = ("rg-wallet-ause", "sql-wallet-ause")


@pytest.fixture
def clients(fresh_sandbox: Sandbox) -> Iterator[AzureClients]:
    made = AzureClients(load_config(playbook_subscription=None, environ=fresh_sandbox.env()))
    try:
        yield made
    finally:
        made.close()


def test_begin_returns_at_once_and_a_later_poll_follows_the_operation_to_its_end(
    fresh_sandbox: Sandbox, clients: AzureClients
) -> None:
    fresh_sandbox.add_faults({"kind": "latency", "op": "sql.failover", "seconds": 2})
    started = time.monotonic()
    accepted = azure_sql.begin_fail_over(clients, *AUS, "fg-wallet", "planned")
    assert time.monotonic() - started < 1.5, "the SDK did not wait for the operation"
    assert accepted.running
    assert accepted.status == 202
    assert accepted.status_url is not None
    assert "failoverGroupAzureAsyncOperation" in accepted.status_url
    # a new set of clients stands for a new process: only the URLs carry over
    other = AzureClients(load_config(playbook_subscription=None, environ=fresh_sandbox.env()))
    try:
        assert lro.poll(other, "sql", accepted.status_url, accepted.location_url).state == lro.IN_PROGRESS
        time.sleep(2.2)
        assert lro.poll(other, "sql", accepted.status_url, accepted.location_url).state == lro.SUCCEEDED
        assert lro.poll(other, "sql", None, accepted.location_url).state == lro.SUCCEEDED
    finally:
        other.close()
    assert azure_sql.failover_group(clients, *AUS, "fg-wallet").role == "Primary"
    unknown = accepted.status_url.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000?api-version=2025-01-01"
    assert lro.poll(clients, "sql", unknown, None).state == lro.UNKNOWN


def test_a_second_failover_while_one_runs_is_refused_not_run_alongside(
    fresh_sandbox: Sandbox, clients: AzureClients
) -> None:
    fresh_sandbox.add_faults({"kind": "latency", "op": "sql.failover", "seconds": 2})
    first = azure_sql.begin_fail_over(clients, *AUS, "fg-wallet", "planned")
    with pytest.raises(HttpResponseError) as refused:
        azure_sql.begin_fail_over(clients, *AUS, "fg-wallet", "forced")
    assert refused.value.status_code == 409
    assert refused.value.error is not None
    assert refused.value.error.code == "AnotherOperationInProgress"
    time.sleep(2.2)
    assert lro.poll(clients, "sql", first.status_url, None).state == lro.SUCCEEDED
    again = azure_sql.begin_fail_over(clients, *AUS, "fg-wallet", "planned")  # over: the next is accepted
    assert again.status == 202
    assert [o["mode"] for o in fresh_sandbox.client().operations()] == ["planned", "planned"]


def test_a_failed_operation_reads_failed_with_its_error(fresh_sandbox: Sandbox, clients: AzureClients) -> None:
    fresh_sandbox.add_faults({"kind": "lro_failure", "op": "sql.failover", "code": "FailoverTimedOut"})
    accepted = azure_sql.begin_fail_over(clients, *AUS, "fg-wallet", "planned")
    progress = lro.poll(clients, "sql", accepted.status_url, accepted.location_url)
    assert progress.state == lro.FAILED
    assert progress.error is not None
    assert "FailoverTimedOut" in progress.error
    located = lro.poll(clients, "sql", None, accepted.location_url)
    assert located.state == lro.FAILED
