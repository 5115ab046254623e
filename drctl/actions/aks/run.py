"""aks.* at run time: start the cluster, scale node pools and Deployments, wait until ready; fence; return.

Each change goes through ``azure_bridge.start_or_follow`` under a stable key, after a ``standby.prior`` fact
for the resource (``record_prior``: once per step, before the first intent, so a resumed step never records the
state it changed itself). Floors are sized from the source's live counts when its control plane (pools) or its
Kubernetes API (Deployments) answers, else from the playbook; each basis is journaled (``aks.sizing``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from drctl.actions.aks.facts import FACT_SIZING
from drctl.actions.aks.spec import (
    SCALE_DEPLOYMENTS,
    SCALE_NODE_POOLS,
    START_CLUSTER,
    ClusterParams,
    Planned,
    ScaleDeploymentsParams,
    ScaleNodePoolsParams,
    StartClusterParams,
    cluster_of,
    deployment_plan,
    pool_plan,
    source_cluster,
)
from drctl.actions.base import Scope, at_least
from drctl.actions.fencing import FenceItem, FenceOutcome
from drctl.actions.prior import FACT_PRIOR, PriorState, record_prior
from drctl.actions.runtime import ActionError, Finding, Implementation, Outcome, StepContext, TransientError
from drctl.text import plural

if TYPE_CHECKING:
    from drctl.azure.aks import ClusterView, DeploymentView, PoolView

#: how often to re-read while waiting for a cluster, a pool or ready replicas
POLL = 2.0
#: how long a resumed step watches for the effect of a replica change sent before a crash (a synchronous write)
SETTLE = 10.0
CLIENT = "containerservice"
START_KEY = "aks.start "
STOP_KEY = "aks.stop "
POOL_KEY = "aks.pool "
SCALE_KEY = "k8s.scale "
FENCE_KEY = "k8s.fence "


# ---- reads ------------------------------------------------------------------------------------------------------
def _cluster(ctx: StepContext, group: str, cluster: str) -> ClusterView:
    from drctl.actions.azure_bridge import arm
    from drctl.azure import aks

    return arm(ctx, f"read AKS cluster {cluster}", aks.cluster, group, cluster)


def _pool(ctx: StepContext, group: str, cluster: str, pool: str) -> PoolView:
    from drctl.actions.azure_bridge import arm
    from drctl.azure import aks

    return arm(ctx, f"read node pool {cluster}/{pool}", aks.pool, group, cluster, pool)


def _deployment(ctx: StepContext, group: str, cluster: str, namespace: str, name: str) -> DeploymentView:
    from drctl.actions.azure_bridge import arm
    from drctl.azure import aks

    return arm(ctx, f"read Deployment {namespace}/{name} on {cluster}", aks.deployment, group, cluster, namespace, name)


def _running(view: ClusterView) -> bool:
    return view.power_state == "Running" and view.provisioning_state == "Succeeded"


def _wait(ctx: StepContext, what: str, check: Callable[[], bool]) -> None:
    while not check():
        ctx.progress(f"waiting for {what}")
        ctx.sleep(POLL)


# ---- aks.start_cluster ------------------------------------------------------------------------------------------
def _start(ctx: StepContext, group: str, cluster: str) -> bool:
    """Start the cluster unless it runs; True when this call (or the attempt it resumes) started it."""
    from drctl.actions.azure_bridge import Mutation, follow_in_flight, start_or_follow
    from drctl.azure import aks

    follow_in_flight(ctx, START_KEY, CLIENT)
    view = _cluster(ctx, group, cluster)
    if _running(view):
        return False
    if view.power_state != "Running":
        record_prior(
            ctx,
            PriorState(
                "aks.cluster",
                cluster,
                ctx.scope.target_name,
                {"power_state": view.power_state, "cluster": cluster, "resource_group": group},
            ),
        )
        ctx.progress(f"starting AKS cluster {cluster} ({view.power_state})")
        start_or_follow(
            ctx,
            Mutation(
                key=f"{START_KEY}{group}/{cluster}",
                what=f"start AKS cluster {cluster}",
                start=lambda azure: aks.begin_start(azure, group, cluster),
                client=CLIENT,
            ),
            reached=lambda: _cluster(ctx, group, cluster).power_state == "Running",
        )
    _wait(ctx, f"cluster {cluster} to run", lambda: _running(_cluster(ctx, group, cluster)))
    return True


def run_start(p: StartClusterParams, ctx: StepContext) -> Outcome:
    group, cluster = cluster_of(p, ctx.scope.target)
    started = _start(ctx, group, cluster)
    view = _cluster(ctx, group, cluster)
    if not _running(view):
        raise ActionError(f"AKS cluster {cluster} reads {view.power_state}/{view.provisioning_state} after starting")
    summary = f"AKS cluster {cluster} Running" + (" (started)" if started else " (already)")
    return Outcome(summary, changed=started, facts={"cluster": cluster, "power_state": view.power_state})


def done_start(p: StartClusterParams, ctx: StepContext) -> bool:
    from drctl.actions.azure_bridge import open_rounds

    if open_rounds(ctx, START_KEY):
        return False
    group, cluster = cluster_of(p, ctx.scope.target)
    return _running(_cluster(ctx, group, cluster))


def preflight_start(p: StartClusterParams, ctx: StepContext) -> list[Finding]:
    group, cluster = cluster_of(p, ctx.scope.target)
    view = _cluster(ctx, group, cluster)
    return [
        Finding(
            f"AKS cluster {cluster}",
            f"{view.power_state} ({view.provisioning_state})",
            "Running",
            "ok" if _running(view) else "info",
        )
    ]


# ---- sizing from the source -------------------------------------------------------------------------------------
def _size(
    ctx: StepContext,
    items: list[Planned],
    ratio: float,
    read_live: Callable[[Planned], int],
    kind: str,
    *,
    journal: bool,
) -> list[tuple[Planned, int, dict[str, Any]]]:
    """Each item's floor: explicit, else ``ratio`` of the source's live value, else of the playbook's."""
    from drctl.actions.azure_bridge import AzureFailure

    out = []
    for item in items:
        basis: dict[str, Any] = {"resource": f"{kind} {item.name}", "ratio": ratio}
        if item.explicit is not None:
            floor = item.explicit
            basis |= {"source_read": "explicit"}
        else:
            try:
                live = read_live(item)
            except (AzureFailure, TransientError) as exc:
                floor = at_least(ratio, item.declared or 0)
                basis |= {"source_read": "playbook", "source": item.declared, "source_error": str(exc)}
            else:
                floor = at_least(ratio, live)
                basis |= {"source_read": "live", "source": live}
        basis["floor"] = floor
        if journal:
            ctx.record(FACT_SIZING, basis)
        out.append((item, floor, basis))
    return out


def _source_pool_counts(ctx: StepContext) -> Callable[[Planned], int]:
    source = source_cluster(ctx.scope)
    cache: dict[str, dict[str, int]] = {}

    def read(item: Planned) -> int:
        if source is None or item.source is None:
            raise TransientError("no source cluster declared")
        if "pools" not in cache:
            cache["pools"] = {k.lower(): v for k, v in _cluster(ctx, *source).pools.items()}
        found = cache["pools"].get(item.source.lower())
        if found is None:
            raise TransientError(f"the source cluster has no pool {item.source}")
        return found

    return read


def _source_replicas(ctx: StepContext) -> Callable[[Planned], int]:
    source = source_cluster(ctx.scope)

    def read(item: Planned) -> int:
        if source is None or item.source is None:
            raise TransientError("no source cluster declared")
        namespace, _, name = item.source.partition("/")
        return _deployment(ctx, source[0], source[1], namespace, name).replicas

    return read


def _require_running(ctx: StepContext, group: str, cluster: str) -> None:
    view = _cluster(ctx, group, cluster)
    if view.power_state != "Running":
        raise ActionError(
            f"AKS cluster {cluster} is {view.power_state}: start it first (aks.start_cluster before this step)"
        )


# ---- aks.scale_node_pools ---------------------------------------------------------------------------------------
def _pool_floors(
    p: ScaleNodePoolsParams, ctx: StepContext, *, journal: bool = False
) -> list[tuple[Planned, int, dict[str, Any]]]:
    return _size(ctx, pool_plan(p, ctx.scope), p.min_ratio, _source_pool_counts(ctx), "node pool", journal=journal)


def _scale_pool(ctx: StepContext, group: str, cluster: str, pool: str, floor: int) -> None:
    from drctl.actions.azure_bridge import Mutation, start_or_follow
    from drctl.azure import aks

    start_or_follow(
        ctx,
        Mutation(
            key=f"{POOL_KEY}{group}/{cluster}/{pool} -> {floor}",
            what=f"scale node pool {cluster}/{pool} to {floor}",
            start=lambda azure: aks.begin_scale_pool(azure, group, cluster, pool, floor),
            client=CLIENT,
        ),
        reached=lambda: _pool(ctx, group, cluster, pool).count >= floor,
    )


def run_pools(p: ScaleNodePoolsParams, ctx: StepContext) -> Outcome:
    from drctl.actions.azure_bridge import follow_in_flight

    group, cluster = cluster_of(p, ctx.scope.target)
    # a scale accepted before a crash shows its new count at once: see it through before deciding on it
    follow_in_flight(ctx, POOL_KEY, CLIENT)
    _require_running(ctx, group, cluster)
    results: dict[str, Any] = {}
    changed = False
    for item, floor, basis in _pool_floors(p, ctx, journal=True):
        before = _pool(ctx, group, cluster, item.name)
        if before.count < floor:
            record_prior(
                ctx,
                PriorState(
                    "aks.node_pool",
                    f"{cluster}/{item.name}",
                    ctx.scope.target_name,
                    {"count": before.count, "cluster": cluster, "pool": item.name, "resource_group": group},
                ),
            )
            ctx.progress(f"scaling node pool {cluster}/{item.name} from {before.count} to {floor}")
            _scale_pool(ctx, group, cluster, item.name, floor)
            changed = True

        def settled(name: str = item.name, floor: int = floor) -> bool:
            view = _pool(ctx, group, cluster, name)
            return view.count >= floor and view.provisioning_state == "Succeeded"

        _wait(ctx, f"node pool {item.name} to reach {floor} nodes", settled)
        after = _pool(ctx, group, cluster, item.name).count
        results[item.name] = {"before": before.count, "after": after, "floor": floor, **basis}
    summary = ", ".join(f"{n} {r['before']}->{r['after']} (floor {r['floor']})" for n, r in results.items())
    return Outcome(summary, changed=changed, facts={"cluster": cluster, "node_pools": results})


def done_pools(p: ScaleNodePoolsParams, ctx: StepContext) -> bool:
    from drctl.actions.azure_bridge import open_rounds

    if open_rounds(ctx, POOL_KEY):
        return False
    group, cluster = cluster_of(p, ctx.scope.target)
    if _cluster(ctx, group, cluster).power_state != "Running":
        return False
    for item, floor, _ in _pool_floors(p, ctx):
        view = _pool(ctx, group, cluster, item.name)
        if view.count < floor or view.provisioning_state != "Succeeded":
            return False
    return True


def preflight_pools(p: ScaleNodePoolsParams, ctx: StepContext) -> list[Finding]:
    group, cluster = cluster_of(p, ctx.scope.target)
    findings = []
    for item, floor, basis in _pool_floors(p, ctx):
        now = _pool(ctx, group, cluster, item.name).count
        note = f"{basis['source_read']} source {basis.get('source')}" if "source" in basis else "explicit"
        findings.append(
            Finding(
                f"node pool {cluster}/{item.name}", str(now), f">= {floor} ({note})", "ok" if now >= floor else "info"
            )
        )
    return findings


# ---- aks.scale_deployments --------------------------------------------------------------------------------------
def _deployment_floors(
    p: ScaleDeploymentsParams, ctx: StepContext, *, journal: bool = False
) -> list[tuple[Planned, int, dict[str, Any]]]:
    return _size(ctx, deployment_plan(p, ctx.scope), p.min_ratio, _source_replicas(ctx), "Deployment", journal=journal)


def _set_replicas(ctx: StepContext, where: tuple[str, str, str, str], replicas: int, *, key: str, what: str) -> None:
    """Set a Deployment's replicas once: a change sent before a crash whose effect shows is not sent again."""
    from drctl.actions.azure_bridge import Mutation, start_or_follow
    from drctl.azure import aks

    group, cluster, namespace, name = where

    def send(azure: Any) -> None:
        aks.scale_deployment(azure, group, cluster, namespace, name, replicas=replicas)

    start_or_follow(
        ctx,
        Mutation(key=key, what=what, start=send, client=CLIENT, settle=SETTLE),
        reached=lambda: _deployment(ctx, group, cluster, namespace, name).replicas == replicas,
    )


def run_deployments(p: ScaleDeploymentsParams, ctx: StepContext) -> Outcome:
    group, cluster = cluster_of(p, ctx.scope.target)
    _require_running(ctx, group, cluster)
    floors = _deployment_floors(p, ctx, journal=True)
    results: dict[str, Any] = {}
    changed = False
    for item, floor, basis in floors:
        before = _deployment(ctx, group, cluster, item.namespace, item.short)
        if before.replicas < floor:
            record_prior(
                ctx,
                PriorState(
                    "aks.deployment",
                    item.name,
                    ctx.scope.target_name,
                    {
                        "replicas": before.replicas,
                        "cluster": cluster,
                        "namespace": item.namespace,
                        "deployment": item.short,
                        "resource_group": group,
                    },
                ),
            )
            ctx.progress(f"scaling Deployment {item.name} from {before.replicas} to {floor} replicas")
            _set_replicas(
                ctx,
                (group, cluster, item.namespace, item.short),
                floor,
                key=f"{SCALE_KEY}{cluster}/{item.name} -> {floor}",
                what=f"scale Deployment {item.name} on {cluster} to {floor}",
            )
            changed = True
        results[item.name] = {"before": before.replicas, "floor": floor, **basis}
    pending = list(floors)
    while pending:
        waiting = []
        for item, floor, basis in pending:
            view = _deployment(ctx, group, cluster, item.namespace, item.short)
            results[item.name] |= {"replicas": view.replicas, "ready": view.ready}
            if view.ready < floor:
                waiting.append((item, floor, basis))
                ctx.progress(f"{item.name}: {view.ready}/{floor} ready")
        pending = waiting
        if pending:
            ctx.sleep(POLL)
    summary = ", ".join(f"{n} {r['before']}->{r['replicas']} ({r['ready']} ready)" for n, r in results.items())
    return Outcome(summary, changed=changed, facts={"cluster": cluster, "deployments": results})


def done_deployments(p: ScaleDeploymentsParams, ctx: StepContext) -> bool:
    from drctl.actions.azure_bridge import open_rounds

    if open_rounds(ctx, SCALE_KEY):
        return False
    group, cluster = cluster_of(p, ctx.scope.target)
    if _cluster(ctx, group, cluster).power_state != "Running":
        return False
    for item, floor, _ in _deployment_floors(p, ctx):
        view = _deployment(ctx, group, cluster, item.namespace, item.short)
        if view.replicas < floor or view.ready < floor:
            return False
    return True


def preflight_deployments(p: ScaleDeploymentsParams, ctx: StepContext) -> list[Finding]:
    from drctl.actions.azure_bridge import AzureFailure

    group, cluster = cluster_of(p, ctx.scope.target)
    findings = []
    for item, floor, basis in _deployment_floors(p, ctx):
        note = f"{basis['source_read']} source {basis.get('source')}" if "source" in basis else "explicit"
        try:
            view = _deployment(ctx, group, cluster, item.namespace, item.short)
        except (AzureFailure, TransientError) as exc:
            # a stopped standby's API server does not answer: the step starts after aks.start_cluster
            findings.append(Finding(f"Deployment {item.name}", None, f">= {floor} ({note})", "info", str(exc)))
            continue
        now = f"{view.replicas} ({view.ready} ready)"
        ok = view.replicas >= floor and view.ready >= floor
        findings.append(Finding(f"Deployment {item.name}", now, f">= {floor} ({note})", "ok" if ok else "info"))
    return findings


# ---- fencing the old primary ------------------------------------------------------------------------------------
class AksFencer:
    """The source region's Deployments scaled to zero, verified; a cluster that does not answer is not fenced."""

    def items(self, scope: Scope, region: str) -> list[FenceItem]:
        aks = scope.playbook.regions[region].aks
        if aks is None:
            return []
        return [FenceItem("aks.deployment", f"{d.namespace}/{d.name}", region) for d in aks.deployments]

    def fence(self, ctx: StepContext, item: FenceItem) -> FenceOutcome:
        from drctl.actions.azure_bridge import AzureFailure

        region = ctx.scope.playbook.regions[item.region]
        group, cluster = cluster_of(ClusterParams(), region)
        namespace, _, name = item.name.partition("/")
        try:
            view = _deployment(ctx, group, cluster, namespace, name)
            if view.replicas == 0 and view.ready == 0:
                return FenceOutcome(item, True, f"already at 0 replicas on {cluster}")
            _set_replicas(
                ctx,
                (group, cluster, namespace, name),
                0,
                key=f"{FENCE_KEY}{cluster}/{item.name} -> 0",
                what=f"fence Deployment {item.name} on {cluster} (0 replicas)",
            )
            after = _deployment(ctx, group, cluster, namespace, name)
        except (AzureFailure, TransientError) as exc:
            return FenceOutcome(item, False, f"cluster {cluster} did not answer: {exc}")
        if after.replicas != 0:
            return FenceOutcome(item, False, f"reads {after.replicas} replicas after scaling to 0")
        return FenceOutcome(item, True, f"scaled from {view.replicas} to 0 replicas on {cluster}")


# ---- back to warm standby ---------------------------------------------------------------------------------------
def _where(prior: PriorState, ctx: StepContext) -> tuple[str, str]:
    state = prior.state
    region = ctx.scope.playbook.regions.get(prior.region)
    fallback = cluster_of(ClusterParams(), region) if region is not None else ("", "")
    return str(state.get("resource_group") or fallback[0]), str(state.get("cluster") or fallback[1])


class AksReturner:
    """Back to the state journaled before the run: replicas, then node counts, then the cluster stopped again."""

    kinds: tuple[str, ...] = ("aks.cluster", "aks.node_pool", "aks.deployment")

    def restore(self, ctx: StepContext, prior: PriorState) -> str:
        if prior.kind == "aks.cluster":
            return self._cluster(ctx, prior)
        group, cluster = _where(prior, ctx)
        if _cluster(ctx, group, cluster).power_state != "Running":
            # a stopped cluster runs no pods and AKS refuses pool changes; its own return stopped it after
            # putting its pools and Deployments back (see _cluster)
            return f"cluster {cluster} is stopped: {prior.name} was returned before it stopped"
        if prior.kind == "aks.node_pool":
            return self._pool(ctx, prior, group, cluster)
        return self._deployment(ctx, prior, group, cluster)

    def _pool(self, ctx: StepContext, prior: PriorState, group: str, cluster: str) -> str:
        from drctl.actions.azure_bridge import Mutation, start_or_follow
        from drctl.azure import aks

        pool = str(prior.state.get("pool") or prior.name.rsplit("/", 1)[-1])
        count = int(prior.state["count"])
        before = _pool(ctx, group, cluster, pool)
        if before.count != count:
            start_or_follow(
                ctx,
                Mutation(
                    key=f"{POOL_KEY}{group}/{cluster}/{pool} back -> {count}",
                    what=f"return node pool {cluster}/{pool} to {count}",
                    start=lambda azure: aks.begin_scale_pool(azure, group, cluster, pool, count),
                    client=CLIENT,
                ),
                reached=lambda: _pool(ctx, group, cluster, pool).count == count,
            )
        _wait(ctx, f"node pool {pool} at {count}", lambda: _settled_at(ctx, group, cluster, pool, count))
        if before.count == count:
            return f"node pool {cluster}/{pool} already at {count}"
        return f"node pool {cluster}/{pool} scaled back from {before.count} to {count}"

    def _deployment(self, ctx: StepContext, prior: PriorState, group: str, cluster: str) -> str:
        namespace = str(prior.state.get("namespace") or prior.name.partition("/")[0])
        name = str(prior.state.get("deployment") or prior.name.partition("/")[2])
        replicas = int(prior.state["replicas"])
        before = _deployment(ctx, group, cluster, namespace, name)
        if before.replicas != replicas:
            _set_replicas(
                ctx,
                (group, cluster, namespace, name),
                replicas,
                key=f"{SCALE_KEY}{cluster}/{namespace}/{name} back -> {replicas}",
                what=f"return Deployment {namespace}/{name} on {cluster} to {replicas}",
            )
        after = _deployment(ctx, group, cluster, namespace, name)
        if after.replicas != replicas:
            raise TransientError(f"Deployment {namespace}/{name} reads {after.replicas}, not {replicas}, yet")
        if before.replicas == replicas:
            return f"Deployment {namespace}/{name} already at {replicas}"
        return f"Deployment {namespace}/{name} scaled back from {before.replicas} to {replicas}"

    def _cluster(self, ctx: StepContext, prior: PriorState) -> str:
        from drctl.actions.azure_bridge import Mutation, follow_in_flight, start_or_follow
        from drctl.azure import aks

        group, cluster = _where(prior, ctx)
        wanted = str(prior.state.get("power_state") or "Running")
        view = _cluster(ctx, group, cluster)
        if wanted != "Stopped" or view.power_state == "Stopped":
            return f"AKS cluster {cluster} already {view.power_state}"
        # pools and replicas first: a stopped cluster keeps them, and refuses to change them
        returned = []
        for fact in ctx.run_journaled(FACT_PRIOR):
            other = PriorState.from_fact(fact)
            if other.kind in ("aks.deployment", "aks.node_pool") and _where(other, ctx) == (group, cluster):
                returned.append(
                    self._deployment(ctx, other, group, cluster)
                    if other.kind == "aks.deployment"
                    else self._pool(ctx, other, group, cluster)
                )
        follow_in_flight(ctx, STOP_KEY, CLIENT)
        start_or_follow(
            ctx,
            Mutation(
                key=f"{STOP_KEY}{group}/{cluster}",
                what=f"stop AKS cluster {cluster}",
                start=lambda azure: aks.begin_stop(azure, group, cluster),
                client=CLIENT,
            ),
            reached=lambda: _cluster(ctx, group, cluster).power_state == "Stopped",
        )

        def stopped() -> bool:
            now = _cluster(ctx, group, cluster)
            return now.power_state == "Stopped" and now.provisioning_state == "Succeeded"

        _wait(ctx, f"cluster {cluster} to stop", stopped)
        done = f"AKS cluster {cluster} stopped again"
        return f"{done} (after {plural(len(returned), 'pool or Deployment')} returned)" if returned else done


def _settled_at(ctx: StepContext, group: str, cluster: str, pool: str, count: int) -> bool:
    view = _pool(ctx, group, cluster, pool)
    return view.count == count and view.provisioning_state == "Succeeded"


FENCER = AksFencer()
RETURNER = AksReturner()

START_IMPLEMENTATION = Implementation(run=run_start, done=done_start, preflight=preflight_start)
POOLS_IMPLEMENTATION = Implementation(run=run_pools, done=done_pools, preflight=preflight_pools)
DEPLOYMENTS_IMPLEMENTATION = Implementation(run=run_deployments, done=done_deployments, preflight=preflight_deployments)


def implementation(action: str) -> Implementation[Any] | None:
    """The run-time half of ``action`` (``RunModule``)."""
    known: dict[str, Implementation[Any]] = {
        START_CLUSTER.name: START_IMPLEMENTATION,
        SCALE_NODE_POOLS.name: POOLS_IMPLEMENTATION,
        SCALE_DEPLOYMENTS.name: DEPLOYMENTS_IMPLEMENTATION,
    }
    return known.get(action)
