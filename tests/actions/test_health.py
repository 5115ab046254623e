"""health.http and health.azure against the sandbox: probes over HTTPS by the estate's real host names, ARM reads
through the real SDK. Both are read-only: every test also checks that nothing was sent that could change Azure."""

from __future__ import annotations

import pytest

from drctl.actions.health.run import AZURE_IMPLEMENTATION, HTTP_IMPLEMENTATION
from drctl.actions.health.spec import HealthAzureParams, HealthHttpParams
from drctl.actions.runtime import ActionError, TransientError
from drctl.sandbox.ops import Service
from tests.actions.conftest import SOURCE, Estate


def _http(estate: Estate, role: str, **kwargs: object) -> HealthHttpParams:
    url = estate.scope.region(role).health_url  # type: ignore[arg-type]
    return HealthHttpParams.model_validate({"url": url, **kwargs})


def _probes(estate: Estate, region: str) -> list[dict[str, object]]:
    return [r for r in estate.sandbox.world.request_log(Service.APP) if r["region"] == region]


def test_http_run_samples_a_healthy_region_on_the_run_clock(estate: Estate) -> None:
    ctx = estate.ctx()
    outcome = HTTP_IMPLEMENTATION.run(_http(estate, "source", samples=3, interval="2s", max_p95="5s"), ctx)
    assert outcome.facts["healthy"] is True
    assert outcome.facts["statuses"] == {"200": 3}
    assert outcome.facts["error_rate"] == 0
    assert not outcome.changed
    assert len(_probes(estate, SOURCE)) == 3
    # the pauses between samples are the run clock's, not the wall's
    assert ctx.sleeps == [2.0, 2.0]
    assert ctx.clock.monotonic() == 4.0
    assert estate.mutations() == []


def test_http_run_on_a_standby_that_does_not_serve_yet_is_worth_retrying(estate: Estate) -> None:
    ctx = estate.ctx()
    with pytest.raises(TransientError):
        HTTP_IMPLEMENTATION.run(_http(estate, "target", samples=2, interval="1s", max_p95="5s"), ctx)
    (fact,) = ctx.recorded("health.http")
    assert fact["healthy"] is False
    assert fact["statuses"] == {"503": 2}
    assert fact["error_rate"] == 1.0


def test_http_run_against_a_lost_region_records_the_refusal(estate: Estate) -> None:
    estate.down(SOURCE)
    ctx = estate.ctx()
    with pytest.raises(TransientError):
        HTTP_IMPLEMENTATION.run(_http(estate, "source", samples=2, interval="1s"), ctx)
    (fact,) = ctx.recorded("health.http")
    assert fact["statuses"] == {"error": 2}
    assert fact["p95_ms"] is None
    assert "refused" in fact["first_error"]


def test_http_run_checks_the_body(estate: Estate) -> None:
    ctx = estate.ctx()
    HTTP_IMPLEMENTATION.run(_http(estate, "source", samples=1, expect_body="healthy", max_p95="5s"), ctx)
    with pytest.raises(TransientError):
        HTTP_IMPLEMENTATION.run(_http(estate, "source", samples=1, expect_body="no such text", max_p95="5s"), ctx)
    assert ctx.recorded("health.http")[0]["first_error"].startswith("body lacks")


def test_http_run_stops_at_the_step_deadline(estate: Estate) -> None:
    from drctl.actions.runtime import TimedOut

    ctx = estate.ctx(timeout=5.0)
    with pytest.raises(TimedOut):
        HTTP_IMPLEMENTATION.run(_http(estate, "source", samples=10, interval="2s", max_p95="5s"), ctx)
    assert len(_probes(estate, SOURCE)) == 3  # at 0 s, 2 s, 4 s; the next pause passes the deadline


def test_http_preflight_on_a_healthy_and_a_broken_estate(estate: Estate) -> None:
    assert HTTP_IMPLEMENTATION.preflight is not None
    (healthy,) = HTTP_IMPLEMENTATION.preflight(_http(estate, "source"), estate.ctx())
    assert (healthy.severity, healthy.current) == ("ok", "status 200")
    (standby,) = HTTP_IMPLEMENTATION.preflight(_http(estate, "target"), estate.ctx())
    assert (standby.severity, standby.current) == ("warning", "status 503")
    estate.down(SOURCE)
    (lost,) = HTTP_IMPLEMENTATION.preflight(_http(estate, "source"), estate.ctx())
    assert lost.severity == "warning"
    assert "refused" in (lost.current or "")
    assert estate.mutations() == []


def test_azure_run_reads_every_declared_resource_of_a_region(estate: Estate) -> None:
    ctx = estate.ctx()
    outcome = AZURE_IMPLEMENTATION.run(HealthAzureParams(region="source"), ctx)
    checked = outcome.facts["checked"]
    assert outcome.facts["region"] == SOURCE
    assert checked["resource group rg-wallet-aue"] == "Succeeded"
    assert {k for k in checked if k.startswith("database ")} == {
        f"database sql-wallet-aue/{db}" for db in ("walletdb", "ledgerdb", "identitydb")
    }
    assert checked["web app app-wallet-api-aue"] == "Running"
    assert checked["scale set vmss-wallet-workers-aue"] == "6"
    assert "storage account stwalletdocsaue" in checked
    # every read is journaled with its ARM ids, one fact per logical read
    calls = ctx.recorded("arm.calls")
    assert len(calls) == len(checked)
    assert all(c["calls"] and c["calls"][0]["request_id"] for c in calls)
    assert estate.mutations() == []


def test_azure_run_on_a_stopped_standby_waits_when_it_must_run(estate: Estate) -> None:
    ctx = estate.ctx()
    AZURE_IMPLEMENTATION.run(HealthAzureParams(region="target"), ctx)  # provisioned is enough
    with pytest.raises(TransientError) as caught:
        AZURE_IMPLEMENTATION.run(HealthAzureParams(region="target", require_running=True), ctx)
    assert "app-wallet-api-aus" in str(caught.value)


def test_azure_run_fails_on_a_resource_azure_cannot_find(estate: Estate) -> None:
    estate.sandbox.add_faults({"kind": "error", "op": "arm.read", "status": 404, "code": "ResourceNotFound"})
    with pytest.raises(ActionError):
        AZURE_IMPLEMENTATION.run(HealthAzureParams(region="target", checks=["resource_group"]), estate.ctx())


def test_azure_preflight_on_a_healthy_and_a_broken_estate(estate: Estate) -> None:
    assert AZURE_IMPLEMENTATION.preflight is not None
    # a stopped standby is provisioned: preflight never asks for running
    (ok,) = AZURE_IMPLEMENTATION.preflight(HealthAzureParams(region="target", require_running=True), estate.ctx())
    assert ok.severity == "ok"
    estate.sandbox.add_faults({"kind": "error", "op": "arm.read", "status": 404, "code": "ResourceNotFound"})
    (broken,) = AZURE_IMPLEMENTATION.preflight(HealthAzureParams(region="target"), estate.ctx())
    assert broken.severity == "error"
    assert "ResourceNotFound" in (broken.current or "")
    assert estate.mutations() == []
