"""Whatever the file holds, validate answers with located messages and exit code 3, never a traceback."""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drctl.cli.main import main
from drctl.errors import ExitCode
from drctl.planning.load import check_file
from tests.conftest import SAMPLE

SAMPLE_DATA = yaml.safe_load(SAMPLE.read_text())
SAMPLE_LINES = SAMPLE.read_text().splitlines()

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(["1h", "15m", "0s", "${X}", "${{ target.health_url }}", "${{ source.nope }}", "abort", "drill"]),
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


def run_validate(path: Path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(["validate", str(path)])
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue() + err.getvalue()


def assert_answers_cleanly(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzzed.yaml"
        path.write_text(text)
        result = check_file(path)  # must not raise
        for diagnostic in result.diagnostics:
            assert diagnostic.line >= 1
            assert diagnostic.column >= 1
            assert diagnostic.message
            assert str(diagnostic).startswith(f"{path}:{diagnostic.line}:{diagnostic.column}: ")
        code, output = run_validate(path)
        assert "Traceback" not in output, output
        assert "internal error" not in output, output
        if result.ok:
            assert code == ExitCode.OK
        else:
            assert code == ExitCode.INVALID_PLAYBOOK, output
            assert f"{path}:" in output


def paths_of(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths_of(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += paths_of(value, (*prefix, index))
    return found


ALL_PATHS = paths_of(SAMPLE_DATA)[1:]


def mutate(data: Any, path: tuple[Any, ...], operation: str, new_value: Any) -> Any:
    import copy

    data = copy.deepcopy(data)
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if operation == "delete":
        del parent[last]
    elif operation == "replace":
        parent[last] = new_value
    elif operation == "rename" and isinstance(parent, dict):
        parent[f"{last}x"] = parent.pop(last)
    elif operation == "duplicate" and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[last]))
    return data


fuzz_settings = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@fuzz_settings
@given(values)
def test_random_yaml_never_produces_a_traceback(value: Any) -> None:
    assert_answers_cleanly(yaml.safe_dump(value))


@fuzz_settings
@given(st.text(max_size=300))
def test_random_text_never_produces_a_traceback(text: str) -> None:
    assert_answers_cleanly(text)


@fuzz_settings
@given(
    st.sampled_from(ALL_PATHS),
    st.sampled_from(["delete", "replace", "rename", "duplicate"]),
    values,
)
def test_mutations_of_the_sample_never_produce_a_traceback(path: tuple[Any, ...], operation: str, new: Any) -> None:
    assert_answers_cleanly(yaml.safe_dump(mutate(SAMPLE_DATA, path, operation, new), sort_keys=False))


@fuzz_settings
@given(st.integers(0, len(SAMPLE_LINES) - 1), st.sampled_from(["drop", "indent", "dedent", "garble"]))
def test_line_edits_of_the_sample_never_produce_a_traceback(index: int, edit: str) -> None:
    lines = list(SAMPLE_LINES)
    if edit == "drop":
        del lines[index]
    elif edit == "indent":
        lines[index] = "  " + lines[index]
    elif edit == "dedent":
        lines[index] = lines[index][2:]
    else:
        lines[index] = lines[index].replace(":", "", 1).replace("-", "{", 1)
    assert_answers_cleanly("\n".join(lines) + "\n")
