"""Returning what the standby actions changed to the state they journaled before changing it (``actions/prior.py``):
web apps stopped again, scale sets back to their capacity, PATCHed fields back to their values.

A return is a mutation of its own, so its journal keys (``return.web.stop``, ``return.vmss.scale``,
``return.arm.patch``) differ from the forward actions' keys: a forward change journaled as done must never stand
for a return, nor a return for a forward change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drctl.actions.prior import PriorState
from drctl.actions.runtime import ActionError, StepContext, TransientError

if TYPE_CHECKING:
    from drctl.azure.clients import AzureClients

#: how long to re-read a resource after its return was accepted before calling it unverified
VERIFY_POLL = 1.0
VERIFY_READS = 30
#: a web app stop answers when done; a stop whose answer was lost is watched this long before sending it again
SETTLE = 20.0

KINDS = ("web_app", "scale_set", "arm.patch")


def _group(ctx: StepContext, prior: PriorState) -> str:
    """The resource group the forward action used (journaled with the prior), else the region's."""
    group = prior.state.get("resource_group")
    if isinstance(group, str) and group:
        return group
    region = ctx.playbook.regions.get(prior.region)
    if region is None:
        raise ActionError(f"{prior.kind} {prior.name}: region {prior.region!r} is not in the playbook")
    return region.resource_group


def matches(wanted: Any, actual: Any) -> bool:
    """``actual`` holds ``wanted`` at its paths; a prior value of None (the field was absent) matches absent or
    null, which is how ARM shows a field PATCHed back to null."""
    if isinstance(wanted, dict):
        actual = actual if isinstance(actual, dict) else {}
        return all(matches(v, actual.get(k)) for k, v in wanted.items())
    return bool(wanted == actual)


def _part(wanted: Any, actual: Any) -> Any:
    if isinstance(wanted, dict):
        actual = actual if isinstance(actual, dict) else {}
        return {k: _part(v, actual.get(k)) for k, v in wanted.items()}
    return actual


def prior_values(body: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """What a PATCH of ``body`` overwrites on ``current``: the values at the body's paths, except ``tags``, which
    an ARM PATCH replaces whole, so all of them (PATCHing them back then removes a tag the body added)."""
    values: dict[str, Any] = _part(body, current)
    if "tags" in body:
        tags = current.get("tags")
        values["tags"] = dict(tags) if isinstance(tags, dict) else {}
    return values


def holds(values: dict[str, Any], current: dict[str, Any]) -> bool:
    """``current`` reads ``values`` (from ``prior_values``): the tags exactly, everything else at its paths."""
    if "tags" in values:
        tags = current.get("tags")
        if (dict(tags) if isinstance(tags, dict) else {}) != values["tags"]:
            return False
    return matches({k: v for k, v in values.items() if k != "tags"}, current)


class StandbyReturner:
    """The standby family's ``Returner``: ``web_app``, ``scale_set`` and ``arm.patch`` priors.

    Besides the protocol's ``restore`` it offers ``current`` and ``reached`` (read-only), which ``standby.return``
    uses for its facts' "from", its done-check and its preflight when a returner has them."""

    kinds: tuple[str, ...] = KINDS

    # ---- reading ------------------------------------------------------------------------------------------
    def current(self, ctx: StepContext, prior: PriorState) -> dict[str, Any]:
        from drctl.actions.azure_bridge import arm
        from drctl.azure import standby

        if prior.kind == "web_app":
            group = _group(ctx, prior)
            return {"state": arm(ctx, f"read web app {prior.name}", standby.web_app_state, group, prior.name)}
        if prior.kind == "scale_set":
            group = _group(ctx, prior)
            read = arm(ctx, f"read scale set {prior.name}", standby.scale_set_capacity, group, prior.name)
            return {"capacity": int(read)}
        if prior.kind == "arm.patch":
            version, body = self._patch(prior)
            found = arm(ctx, f"read {prior.name}", standby.get_resource, prior.name, version)
            return {"api_version": version, "body": prior_values(body, found)}
        raise ActionError(f"the standby family does not return {prior.kind!r}")

    def reached(self, ctx: StepContext, prior: PriorState) -> bool:
        now = self.current(ctx, prior)
        if prior.kind == "web_app":
            return bool(now["state"] == self._app_state(prior))
        if prior.kind == "scale_set":
            return bool(now["capacity"] == self._capacity(prior))
        return holds(self._patch(prior)[1], now["body"])

    # ---- returning ----------------------------------------------------------------------------------------
    def restore(self, ctx: StepContext, prior: PriorState) -> str:
        if prior.kind == "web_app":
            return self._stop(ctx, prior)
        if prior.kind == "scale_set":
            return self._scale(ctx, prior)
        if prior.kind == "arm.patch":
            return self._patch_back(ctx, prior)
        raise ActionError(f"the standby family does not return {prior.kind!r}")

    def _app_state(self, prior: PriorState) -> str:
        # drctl starts an app it found in any state but Running; warm standby is Stopped, so that is where it goes
        found = str(prior.state.get("state") or "Stopped")
        return "Running" if found == "Running" else "Stopped"

    def _stop(self, ctx: StepContext, prior: PriorState) -> str:
        from drctl.actions.azure_bridge import Mutation, start_or_follow
        from drctl.azure import standby

        group, app = _group(ctx, prior), prior.name
        wanted = self._app_state(prior)
        if wanted == "Running":
            return "already Running, as before the run"
        if self.reached(ctx, prior):
            return "already Stopped"
        ctx.progress(f"stopping web app {app} (it was Stopped before the run)")

        def send(azure: AzureClients) -> None:
            standby.stop_web_app(azure, group, app)

        mutation = Mutation(
            key=f"return.web.stop {group}/{app}", what=f"stop web app {app}", start=send, client="web", settle=SETTLE
        )
        start_or_follow(ctx, mutation, reached=lambda: self.reached(ctx, prior))
        self._verify(ctx, prior, f"web app {app} does not read Stopped after the stop")
        return "stopped, verified"

    def _capacity(self, prior: PriorState) -> int:
        value = prior.state.get("capacity")
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ActionError(f"scale set {prior.name}: the journaled prior capacity {value!r} is not a count")
        return value

    def _scale(self, ctx: StepContext, prior: PriorState) -> str:
        from drctl.actions.azure_bridge import Mutation, start_or_follow
        from drctl.azure import standby

        group, name, capacity = _group(ctx, prior), prior.name, self._capacity(prior)
        if self.reached(ctx, prior):
            return f"already at capacity {capacity}"
        ctx.progress(f"scaling {name} back to {capacity}")
        mutation = Mutation(
            key=f"return.vmss.scale {group}/{name} -> {capacity}",
            what=f"scale {name} back to {capacity}",
            start=lambda azure: standby.begin_scale(azure, group, name, capacity),
            client="compute",
        )
        start_or_follow(ctx, mutation, reached=lambda: self.reached(ctx, prior))
        self._verify(ctx, prior, f"scale set {name} does not read capacity {capacity} after scaling back")
        return f"scaled back to {capacity}, verified"

    def _patch(self, prior: PriorState) -> tuple[str, dict[str, Any]]:
        version, body = prior.state.get("api_version"), prior.state.get("body")
        if not isinstance(version, str) or not isinstance(body, dict) or not body:
            raise ActionError(f"{prior.name}: the journaled prior values cannot be PATCHed back ({prior.state})")
        return version, body

    def _patch_back(self, ctx: StepContext, prior: PriorState) -> str:
        from drctl.actions.azure_bridge import Mutation, start_or_follow
        from drctl.azure import standby

        version, body = self._patch(prior)
        if self.reached(ctx, prior):
            return "already holds the prior values"
        ctx.progress(f"PATCHing {prior.name} back to its prior values")
        mutation = Mutation(
            key=f"return.arm.patch {prior.name}",
            what=f"PATCH {prior.name} back",
            start=lambda azure: standby.begin_patch(azure, prior.name, version, body),
            settle=SETTLE,
        )
        start_or_follow(ctx, mutation, reached=lambda: self.reached(ctx, prior))
        self._verify(ctx, prior, f"{prior.name} does not read its prior values back")
        return "PATCHed back, verified"

    def _verify(self, ctx: StepContext, prior: PriorState, failure: str) -> None:
        """Read the resource until it shows the prior state: nothing is called returned before it reads so."""
        for _ in range(VERIFY_READS):
            if self.reached(ctx, prior):
                return
            ctx.sleep(VERIFY_POLL)
        raise TransientError(failure)


def returner() -> StandbyReturner:
    return StandbyReturner()
