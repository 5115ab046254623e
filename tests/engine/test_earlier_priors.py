"""The engine's ``prior.earlier`` service (``history.EarlierRuns``): which earlier run's ``standby.prior`` facts a
failback's ``standby.return`` gets for a region, read from real journals in a state directory."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from drctl.actions.prior import PriorState
from drctl.engine import events as ev
from drctl.engine.history import EarlierRuns
from drctl.engine.journal import Journal, Recorder
from drctl.engine.paths import StateDir
from drctl.playbook.secrets import SecretStore
from tests.engine.test_verdict import T0, started

NOW = "20260310T020000Z-ffff"


def write_run(state: StateDir, run_id: str, *, playbook: str = "wallet", priors: list[dict[str, Any]]) -> Path:
    state.create_run_dir(run_id)
    journal = Journal.create(state.journal(run_id))
    recorder = Recorder(journal, SecretStore({}))
    recorder.emit(dataclasses.replace(started(), run_id=run_id, playbook_name=playbook))
    for data in priors:
        recorder.emit(ev.Fact(at=T0, step="start-web-apps", kind="standby.prior", data=data))
    journal.close()
    return state.journal(run_id)


def prior(name: str, region: str = "west", state: str = "Stopped") -> dict[str, Any]:
    return {"kind": "web_app", "name": name, "region": region, "state": {"state": state}}


def test_the_latest_earlier_run_of_the_same_application_with_priors_for_the_region(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    write_run(state, "20260301T020000Z-aaaa", priors=[prior("old")])
    write_run(state, "20260302T020000Z-bbbb", priors=[prior("api"), prior("api", state="Running")])
    write_run(state, "20260303T020000Z-cccc", priors=[prior("east-app", region="east")])  # another region
    write_run(state, "20260304T020000Z-dddd", playbook="another-app", priors=[prior("theirs")])
    write_run(state, "20260311T020000Z-eeee", priors=[prior("later")])  # started after this run
    found = EarlierRuns(state, "wallet", NOW).latest("west")
    assert found is not None
    assert found.run_id == "20260302T020000Z-bbbb"
    # the first prior of a resource is the state before the run changed it
    assert found.priors == (PriorState("web_app", "api", "west", {"state": "Stopped"}),)


def test_none_when_no_earlier_run_journaled_priors_for_the_region(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    assert EarlierRuns(state, "wallet", NOW).latest("west") is None
    write_run(state, "20260301T020000Z-aaaa", priors=[prior("east-app", region="east")])
    assert EarlierRuns(state, "wallet", NOW).latest("west") is None


def test_a_journal_that_does_not_verify_is_never_a_state_to_return_to(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    write_run(state, "20260301T020000Z-aaaa", priors=[prior("trusted")])
    tampered = write_run(state, "20260302T020000Z-bbbb", priors=[prior("edited")])
    tampered.write_text(tampered.read_text().replace('"Stopped"', '"Deleted"'))
    found = EarlierRuns(state, "wallet", NOW).latest("west")
    assert found is not None
    assert found.run_id == "20260301T020000Z-aaaa"
