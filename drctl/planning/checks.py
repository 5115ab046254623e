"""Checks a schema cannot express: references, the step graph, action parameters, and safety rule 1."""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from pydantic import ValidationError

from drctl.actions import registry, stepgraph
from drctl.actions.base import ActionSpec, Params, SafetyRole, Scope
from drctl.core import schedule
from drctl.durations import format_duration
from drctl.playbook import graph
from drctl.playbook.diagnostics import Collector, Severity, add_validation_errors
from drctl.playbook.enums import Mode, OnFailure, RecordType
from drctl.playbook.model import Playbook
from drctl.playbook.refs import ReferenceError_, lookup, parse_reference, references_in, resolve

#: which direction each mode runs in: failback (and a drill's second half) reverses the playbook
_REVERSED = {Mode.FAILOVER: False, Mode.DRILL: False, Mode.FAILBACK: True}


def check_playbook(
    pb: Playbook,
    out: Collector,
    *,
    step_index: dict[str, int],
    known_ids: Iterable[str] = (),
    vocabulary: Iterable[str] = (),
) -> dict[tuple[str, str], Params]:
    """Run every check; return each step's parameters validated per direction ((step id, 'forward'|'reverse'))."""
    _check_direction(pb, out)
    _check_dns_values(pb, out)
    _check_windows(pb, out)
    known = set(known_ids)
    graph_ok = _check_graph(pb, out, step_index, known)
    params: dict[tuple[str, str], Params] = {}
    if (
        pb.direction.source in pb.regions
        and pb.direction.target in pb.regions
        and pb.direction.source != pb.direction.target
    ):
        params = _check_actions(pb, out, step_index, list(vocabulary))
        # with a step that failed its schema, the graph is incomplete: safety findings would be noise
        if graph_ok and not known:
            _check_safety(pb, out, step_index, params)
            _check_fence_order(pb, out, step_index)
            _check_return_after_traffic(pb, out, step_index, params)
            _check_budgets(pb, out, step_index)
            _check_drill_audiences(pb, out, step_index, params)
    return params


def _check_direction(pb: Playbook, out: Collector) -> None:
    for role in ("source", "target"):
        name = getattr(pb.direction, role)
        if name not in pb.regions:
            out.add(("direction", role), f"unknown region {name!r}; regions are: {', '.join(sorted(pb.regions))}")
    if pb.direction.source == pb.direction.target:
        out.add(("direction", "target"), "source and target must be different regions")


def _check_dns_values(pb: Playbook, out: Collector) -> None:
    records = {r.name: r for r in pb.dns.records} if pb.dns else {}
    if pb.dns:
        seen: set[str] = set()
        for i, record in enumerate(pb.dns.records):
            if record.name in seen:
                out.add(("dns", "records", i, "name"), f"record {record.name!r} is listed twice")
            seen.add(record.name)
    for region_name, region in pb.regions.items():
        for name in records:
            if name not in region.dns:
                out.add(
                    ("regions", region_name, "dns"),
                    f"region {region_name!r} has no value for DNS record {name!r} (needed to move it here)",
                )
        for name, value in region.dns.items():
            known = records.get(name)
            path = ("regions", region_name, "dns", name)
            if known is None:
                out.add(path, f"{name!r} is not a record in dns.records")
                continue
            problem = _record_value_problem(known.type, value)
            if problem:
                out.add(path, problem)


def _record_value_problem(kind: RecordType, value: str) -> str | None:
    if kind in (RecordType.A, RecordType.AAAA):
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return f"{value!r} is not an IP address, which an {kind.value} record needs"
        if (kind is RecordType.A) != (address.version == 4):
            wanted = 6 if kind is RecordType.AAAA else 4
            return f"{value!r} is an IPv{address.version} address; an {kind.value} record needs IPv{wanted}"
    elif kind is RecordType.CNAME and (" " in value or "." not in value.strip(".")):
        return f"{value!r} is not a host name, which a CNAME record needs"
    return None


def _check_windows(pb: Playbook, out: Collector) -> None:
    for i, window in enumerate(pb.change_windows):
        if window.start == window.end:
            out.add(("change_windows", i, "end"), "a change window must not start and end at the same time")


def _check_graph(pb: Playbook, out: Collector, index: dict[str, int], known: set[str]) -> bool:
    ok = True
    ids = {s.id for s in pb.steps} | known
    for step in pb.steps:
        i = index[step.id]
        for j, dep in enumerate(step.needs or []):
            if dep == step.id:
                out.add(("steps", i, "needs", j), f"step {step.id!r} cannot need itself")
                ok = False
            elif dep not in ids:
                close = difflib.get_close_matches(dep, sorted(ids), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                out.add(("steps", i, "needs", j), f"unknown step {dep!r}{hint}")
                ok = False
    cycle = schedule.find_cycle(
        schedule.Node(s, tuple(d for d in deps if d in ids), 0.0) for s, deps in graph.declared_needs(pb).items()
    )
    if cycle:
        first = cycle[0]
        out.add(("steps", index[first], "needs"), "dependency cycle: " + " -> ".join(cycle))
        ok = False
    return ok


def _check_actions(
    pb: Playbook, out: Collector, index: dict[str, int], vocabulary: list[str]
) -> dict[tuple[str, str], Params]:
    """Each step's ``with`` resolved and validated in both directions; a problem found in both is said once."""
    validated: dict[tuple[str, str], Params] = {}
    scopes = {
        "forward": Scope(pb, pb.direction.source, pb.direction.target),
        "reverse": Scope(pb, pb.direction.target, pb.direction.source),
    }
    found: dict[str, Collector] = {label: Collector(out.file, out.document) for label in scopes}
    for step in pb.steps:
        i = index[step.id]
        spec = registry.get(step.uses)
        if spec is None:
            close = difflib.get_close_matches(step.uses, registry.names(), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else f"; known actions: {', '.join(registry.names())}"
            out.add(("steps", i, "uses"), f"unknown action {step.uses!r}{hint}")
            continue
        for label, scope in scopes.items():
            if not any(_REVERSED[m] == (label == "reverse") for m in step.when):
                continue
            params = _validate_with(
                spec, raw=step.with_, scope=scope, out=found[label], prefix=("steps", i, "with"), vocabulary=vocabulary
            )
            if params is not None:
                validated[(step.id, label)] = params
    forward = {(d.path, d.message) for d in found["forward"].items}
    for d in found["forward"].items:
        out.items.append(d)
    reverse_note = f" (in failback, with {pb.direction.target} as source)"
    for d in found["reverse"].items:
        if (d.path, d.message) not in forward:
            out.items.append(replace(d, message=d.message + reverse_note))
    return validated


def _validate_with(
    spec: ActionSpec[Any],
    *,
    raw: dict[str, Any],
    scope: Scope,
    out: Collector,
    prefix: tuple[str | int, ...],
    vocabulary: list[str],
) -> Params | None:
    data = scope.reference_data()
    broken = False
    for path, text in references_in(raw):
        try:
            lookup(data, parse_reference(text))
        except ReferenceError_ as exc:
            out.add((*prefix, *path), f"unresolved reference '${{{{ {text.strip()} }}}}': {exc}")
            broken = True
    if broken:
        return None
    try:
        resolved = resolve(raw, data)
    except ReferenceError_ as exc:
        out.add(prefix, str(exc))
        return None
    try:
        params: Params = spec.params.model_validate(resolved)
    except ValidationError as exc:
        add_validation_errors(out, exc, raw, prefix=prefix, vocabulary=vocabulary)
        return None
    for problem in spec.check(params, scope):
        out.add((*prefix, *problem.field), problem.message, severity=Severity(problem.severity))
    return params


def _check_safety(pb: Playbook, out: Collector, index: dict[str, int], params: dict[tuple[str, str], Params]) -> None:
    """Safety rule 1: in every mode, traffic (DNS, Traffic Manager, Front Door) moves only after promotion and a
    passing target health check.

    A guard that continues on failure guards nothing, so it does not count.
    """
    missing: dict[tuple[str, str], list[str]] = {}
    misdirected: dict[tuple[str, str], list[str]] = {}
    for mode in Mode:
        label = "reverse" if _REVERSED[mode] else "forward"
        _, target = graph.direction_for(pb, reverse=_REVERSED[mode])
        needs = graph.needs_for(pb, mode)
        wrong: dict[str, str] = {}
        roles = _guard_roles(pb, mode, params, wrong)
        for step in graph.steps_for(pb, mode):
            if SafetyRole.MOVES_TRAFFIC not in spec_roles(pb, step.id, label, params):
                continue
            has_sql = pb.regions[target].sql is not None
            before = graph.ancestors(needs, step.id)
            for guard in sorted(before & wrong.keys()):  # a wrong probe is an error where it stands as a guard
                modes = misdirected.setdefault((guard, wrong[guard]), [])
                if mode.value not in modes:
                    modes.append(mode.value)
            promotions = {s for s in before if SafetyRole.PROMOTES_TARGET_DATABASE in roles.get(s, set())}
            checks = {s for s in before if SafetyRole.CHECKS_TARGET_HEALTH in roles.get(s, set())}
            if has_sql:
                checks = {c for c in checks if graph.ancestors(needs, c) & promotions}
            if has_sql and not promotions:
                missing.setdefault((step.id, "promote"), []).append(mode.value)
            if not checks:
                missing.setdefault((step.id, "health" + ("-after-sql" if has_sql else "")), []).append(mode.value)
    texts = {
        "promote": "{moved} could move before the target database is promoted ({modes}): make this step need a "
        "sql.failover step, directly or through others, that does not continue on failure",
        "health-after-sql": "{moved} could move before the target passes a health check after its database is "
        "promoted ({modes}): make this step need a target health check (health.http on a ${{{{ target.* }}}} URL, "
        "or health.azure with region: target and require_running) that itself follows the sql.failover and "
        "does not continue on failure",
        "health": "{moved} could move before the target passes a health check ({modes}): make this step need a target "
        "health check (health.http on a ${{{{ target.* }}}} URL, or health.azure with region: target and "
        "require_running) that does not continue on failure",
    }
    for (step_id, kind), modes in missing.items():
        # dns.swap's message keeps the word operators know it by; the other switches move "traffic"
        moved = "DNS" if pb.steps[index[step_id]].uses == "dns.swap" else "Traffic"
        out.add(("steps", index[step_id], "needs"), texts[kind].format(modes=_modes(modes), moved=moved))
    for (step_id, why), modes in misdirected.items():
        out.add(
            ("steps", index[step_id], "with", "url"),
            f"this probe is labelled as the target's health check but does not reach the target ({_modes(modes)}): "
            f"{why}; it guards no traffic move. Probe ${{{{ target.health_url }}}} (or another host of the target's "
            "estate)",
        )


def _check_fence_order(pb: Playbook, out: Collector, index: dict[str, int]) -> None:
    """A fence step decides from what the failover steps journaled whether the failover was forced: one that could
    run before a failover step of its mode would decide before the failover happened, and fence nothing."""
    from drctl.actions.fence.spec import DATA_LOSS_FAILOVERS, SOURCE

    early: dict[tuple[str, str], list[str]] = {}
    for mode in Mode:
        needs = graph.needs_for(pb, mode)
        steps = graph.steps_for(pb, mode)
        failovers = [s.id for s in steps if s.uses in DATA_LOSS_FAILOVERS]
        for step in steps:
            if step.uses != SOURCE.name:
                continue
            before = graph.ancestors(needs, step.id)
            for failover in failovers:
                if failover not in before:
                    early.setdefault((step.id, failover), []).append(mode.value)
    for (step_id, failover), modes in early.items():
        out.add(
            ("steps", index[step_id], "needs"),
            f"this fence step could run before the failover step {failover!r} ({_modes(modes)}): it would decide "
            f"before the failover whether it was forced, and fence nothing; make it need {failover!r}, directly or "
            "through others",
        )


def _check_return_after_traffic(
    pb: Playbook, out: Collector, index: dict[str, int], params: dict[tuple[str, str], Params]
) -> None:
    """A ``standby.return`` scales down and stops the region it returns: in every mode it runs in, it must need each
    step that moves traffic away from that region, or it could take capacity from clients still sent there."""
    late: dict[str, dict[str, list[str]]] = {}
    for mode in Mode:
        label = "reverse" if _REVERSED[mode] else "forward"
        needs = graph.needs_for(pb, mode)
        steps = graph.steps_for(pb, mode)
        switches = {s.id for s in steps if SafetyRole.MOVES_TRAFFIC in spec_roles(pb, s.id, label, params)}
        for step in steps:
            if step.uses == "standby.return":
                for switch in sorted(switches - graph.ancestors(needs, step.id)):
                    late.setdefault(step.id, {}).setdefault(switch, []).append(mode.value)
    for step_id, missing in late.items():
        described = "; ".join(f"{switch} ({_modes(modes)})" for switch, modes in missing.items())
        out.add(
            ("steps", index[step_id], "needs"),
            f"this return to warm standby could run before the traffic switch {described}: it would scale down and "
            "stop a region that may still take traffic. Make it need the switch, directly or through others",
        )


def _guard_roles(
    pb: Playbook, mode: Mode, params: dict[tuple[str, str], Params], wrong: dict[str, str]
) -> dict[str, set[SafetyRole]]:
    """Each guarding step's roles in ``mode``: a step that continues on failure guards nothing, and a probe
    labelled as the target's counts only if its URL reaches the target's estate (``playbook/probes.py``). A step
    that failed its own checks (reported already) might be any guard: it counts as every one, so what is still
    reported holds whatever its author meant it to be."""
    from drctl.actions.health.spec import HealthHttpParams
    from drctl.playbook.probes import wrong_region

    label = "reverse" if _REVERSED[mode] else "forward"
    source, target = graph.direction_for(pb, reverse=_REVERSED[mode])
    roles: dict[str, set[SafetyRole]] = {}
    for step in graph.steps_for(pb, mode):
        spec = registry.get(step.uses)
        validated = params.get((step.id, label))
        if spec is None or validated is None:
            roles[step.id] = set(SafetyRole)
            continue
        if pb.step(step.id).on_failure is OnFailure.CONTINUE:
            continue
        roles[step.id] = set(spec.safety(validated, step.with_))
        if isinstance(validated, HealthHttpParams) and SafetyRole.CHECKS_TARGET_HEALTH in roles[step.id]:
            why = wrong_region(pb, source=source, target=target, url=validated.url)
            if why is not None:
                roles[step.id].discard(SafetyRole.CHECKS_TARGET_HEALTH)
                wrong[step.id] = why
    return roles


def spec_roles(pb: Playbook, step_id: str, label: str, params: dict[tuple[str, str], Params]) -> set[SafetyRole]:
    step = pb.step(step_id)
    spec = registry.get(step.uses)
    validated = params.get((step_id, label))
    return spec.safety(validated, step.with_) if spec and validated is not None else set()


def _modes(modes: list[str]) -> str:
    words = modes if len(modes) < 2 else [", ".join(modes[:-1]), modes[-1]]
    return " and ".join(words) + (" modes" if len(modes) > 1 else " mode")


def _check_budgets(pb: Playbook, out: Collector, index: dict[str, int]) -> None:
    for step in pb.steps:
        budget, timeout = stepgraph.budget_of(step), stepgraph.timeout_of(step)
        if budget > timeout:
            out.add(
                ("steps", index[step.id], "budget"),
                f"budget {format_duration(budget)} is longer than the timeout {format_duration(timeout)}",
                severity=Severity.WARNING,
            )
    rto = pb.objectives.rto.total_seconds()
    over: dict[tuple[float, tuple[str, ...]], list[str]] = {}
    for mode in (Mode.FAILOVER, Mode.FAILBACK):
        nodes = stepgraph.nodes_for(pb, mode)
        if nodes:
            plan = schedule.build(nodes)
            if plan.length > rto:
                over.setdefault((plan.length, plan.critical_path), []).append(mode.value)
    for (length, path), modes in over.items():
        out.add(
            ("objectives", "rto"),
            f"the critical path ({_modes(modes)}) takes {format_duration(length)} of budgets, longer than "
            f"the RTO {format_duration(rto)}: {_path_text(path)}",
            severity=Severity.WARNING,
        )


#: a path longer than this is shown by its ends: the message must stay readable, the plan lists every step
_PATH_SHOWN = 8


def _path_text(path: tuple[str, ...]) -> str:
    if len(path) <= _PATH_SHOWN:
        return " -> ".join(path)
    head, tail = path[: _PATH_SHOWN // 2], path[-(_PATH_SHOWN // 2) :]
    return f"{' -> '.join(head)} -> ... ({len(path) - len(head) - len(tail)} more steps) -> {' -> '.join(tail)}"


def _check_drill_audiences(
    pb: Playbook, out: Collector, index: dict[str, int], params: dict[tuple[str, str], Params]
) -> None:
    from drctl.actions.notify.spec import NotifyParams

    channels = pb.notifications.channels if pb.notifications else {}
    for step in graph.steps_for(pb, Mode.DRILL):
        found = params.get((step.id, "forward"))
        if not isinstance(found, NotifyParams):
            continue
        if not any("drill" in channels[c].audiences for c in found.channels if c in channels):
            out.add(
                ("steps", index[step.id], "with", "channels"),
                "in a drill this step messages nobody: none of its channels lists the 'drill' audience",
                severity=Severity.WARNING,
            )
