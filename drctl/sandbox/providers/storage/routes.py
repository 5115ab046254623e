"""Microsoft.Storage accounts: get (``$expand=geoReplicationStats``), list, PATCH and failover.

Accounts answer in the shape of ``StorageAccounts_GetProperties`` (endpoints, ``encryption``, ``networkAcls``,
replication status); a PATCH of ``properties`` merges into it.

Failover is an LRO followed through ``Location`` (202 while running, then an empty 200). ``failoverType=Planned``
(the SDK's default) needs both regions up and swaps primary and secondary, staying geo-redundant; without it
(customer-managed, unplanned) only the secondary must be up: it becomes the primary of a locally redundant
account, and the writes after the last sync time are recorded as lost.
"""

from __future__ import annotations

from typing import Any

from drctl.sandbox.arm.core import ArmError, Ctx, Route, deep_merge, lro_urls, not_found, paged, patch_placed
from drctl.sandbox.clock import iso
from drctl.sandbox.http import Response, json_response
from drctl.sandbox.lro import Outcome
from drctl.sandbox.ops import OpKind
from drctl.sandbox.providers.storage.model import AccountState
from drctl.sandbox.providers.storage.provider import store
from drctl.sandbox.state import World

_ACCOUNT = "subscriptions/{sub}/resourcegroups/{rg}/providers/microsoft.storage/storageaccounts/{name}"
_CREATED = "2024-01-15T03:30:00.0000000Z"
_LOCAL = {
    "Standard_RAGRS": "Standard_LRS",
    "Standard_GRS": "Standard_LRS",
    "Standard_RAGZRS": "Standard_ZRS",
    "Standard_GZRS": "Standard_ZRS",
}


def routes() -> list[Route]:
    read = OpKind.ARM_READ
    return [
        Route.of("GET", "subscriptions/{sub}/providers/microsoft.storage/storageaccounts", read, _all),
        Route.of(
            "GET",
            "subscriptions/{sub}/resourcegroups/{rg}/providers/microsoft.storage/storageaccounts",
            read,
            _by_group,
        ),
        Route.of("GET", _ACCOUNT, read, _get),
        Route.of("PATCH", _ACCOUNT, OpKind.ARM_WRITE, _patch),
        Route.of("POST", f"{_ACCOUNT}/failover", OpKind.STORAGE_FAILOVER, _failover),
    ]


def last_sync(world: World, account: AccountState, now: float) -> float:
    """Geo-replication's last sync time: the primary's last write minus the lag (frozen by outages)."""
    primary = world.regions[account.region]
    written = now if primary.down_since is None else min(now, primary.down_since)
    if account.secondary_region is not None:
        secondary = world.regions[account.secondary_region]
        if secondary.down_since is not None:
            written = min(written, secondary.down_since)
    return written - account.lag


def account_json(ctx: Ctx, account: AccountState, *, expand: bool) -> dict[str, Any]:
    world = ctx.world
    primary = world.regions[account.region]
    name = account.name
    endpoints = {k: f"https://{name}.{k}.core.windows.net/" for k in ("dfs", "web", "blob", "queue", "table", "file")}
    props: dict[str, Any] = {
        "dnsEndpointType": "Standard",
        "defaultToOAuthAuthentication": False,
        "publicNetworkAccess": "Enabled",
        "keyCreationTime": {"key1": _CREATED, "key2": _CREATED},
        "allowCrossTenantReplication": False,
        "privateEndpointConnections": [],
        "isSkuConversionBlocked": False,
        "minimumTlsVersion": "TLS1_2",
        "allowBlobPublicAccess": False,
        "allowSharedKeyAccess": True,
        "isHnsEnabled": False,
        "largeFileSharesState": "Enabled",
        "networkAcls": {
            "bypass": "AzureServices",
            "defaultAction": "Allow",
            "ipRules": [],
            "ipv6Rules": [],
            "virtualNetworkRules": [],
            "resourceAccessRules": [],
        },
        "supportsHttpsTrafficOnly": True,
        "encryption": {
            "requireInfrastructureEncryption": False,
            "services": {
                service: {"keyType": "Account", "enabled": True, "lastEnabledTime": _CREATED}
                for service in ("file", "blob")
            },
            "keySource": "Microsoft.Storage",
        },
        "accessTier": "Hot",
        "accountMigrationInProgress": False,
        "provisioningState": "Succeeded",
        "creationTime": _CREATED,
        "primaryEndpoints": endpoints,
        "primaryLocation": primary.location,
        "statusOfPrimary": "available" if primary.up else "unavailable",
    }
    if account.secondary_region is not None:
        secondary = world.regions[account.secondary_region]
        props["secondaryLocation"] = secondary.location
        props["statusOfSecondary"] = "available" if secondary.up else "unavailable"
        if account.sku.startswith("Standard_RA"):
            props["secondaryEndpoints"] = {
                k: f"https://{name}-secondary.{k}.core.windows.net/" for k in ("blob", "queue", "table", "dfs")
            }
        if expand:
            both = primary.up and secondary.up
            props["geoReplicationStats"] = {
                "status": "Live" if both else "Unavailable",
                "lastSyncTime": iso(last_sync(world, account, ctx.now)),
                "canFailover": secondary.up and not account.failover_in_progress,
                "canPlannedFailover": both and not account.failover_in_progress,
                "postFailoverRedundancy": _LOCAL.get(account.sku, "Standard_LRS"),
                "postPlannedFailoverRedundancy": account.sku,
            }
    if account.failover_in_progress:
        props["failoverInProgress"] = True
    if account.last_failover is not None:
        props["lastGeoFailoverTime"] = iso(account.last_failover)
    return {
        "sku": {"name": account.sku, "tier": "Standard"},
        "kind": "StorageV2",
        "id": f"{ctx.rg_id(account.resource_group)}/providers/Microsoft.Storage/storageAccounts/{name}",
        "name": name,
        "type": "Microsoft.Storage/storageAccounts",
        "location": primary.location,
        "tags": account.tags,
        "properties": deep_merge(props, account.overlay),
    }


def _account_of(ctx: Ctx) -> AccountState:
    return ctx.resource(store(ctx.world).accounts, "Microsoft.Storage/storageAccounts")


def _expand(ctx: Ctx) -> bool:
    return "georeplicationstats" in (ctx.req.param("$expand") or "").lower()


def _all(ctx: Ctx) -> Response:
    return paged(ctx, [account_json(ctx, a, expand=False) for a in store(ctx.world).accounts.values()])


def _by_group(ctx: Ctx) -> Response:
    return paged(
        ctx,
        [
            account_json(ctx, a, expand=False)
            for a in store(ctx.world).accounts.values()
            if a.resource_group.lower() == ctx.rg.lower()
        ],
    )


def _get(ctx: Ctx) -> Response:
    return json_response(200, account_json(ctx, _account_of(ctx), expand=_expand(ctx)))


def _patch(ctx: Ctx) -> Response:
    account = _account_of(ctx)
    patch_placed(ctx, account)
    return json_response(200, account_json(ctx, account, expand=False))


def _failover(ctx: Ctx) -> Response:
    world = ctx.world
    account = store(world).accounts.get(ctx.params["name"].lower())
    if account is None or account.resource_group.lower() != ctx.rg.lower():
        raise not_found("Microsoft.Storage/storageAccounts", ctx.params["name"], ctx.rg)
    if account.secondary_region is None:
        raise ArmError(
            400,
            "FailoverNotSupported",
            f"The storage account '{account.name}' is not geo-redundant: there is nothing to fail over to.",
        )
    if account.failover_in_progress:
        raise ArmError(409, "FailoverInProgress", f"A failover of '{account.name}' is already in progress.")
    planned = (ctx.req.param("failoverType") or "").lower() == "planned"
    # the failover is run from the secondary's region: a primary outage fails a planned one later, as an LRO
    ctx.check_region(account.secondary_region, write=True)
    fault = world.faults.take_lro_failure(OpKind.STORAGE_FAILOVER)
    account.failover_in_progress = True

    def complete(at: float) -> Outcome:
        account.failover_in_progress = False
        primary, secondary = account.region, account.secondary_region
        assert secondary is not None
        if not world.regions[secondary].up:
            return ("FailoverFailed", f"The secondary region of '{account.name}' is unavailable.")
        if planned:
            if not world.regions[primary].up:
                return (
                    "PlannedFailoverNotPossible",
                    f"Planned failover of '{account.name}' needs both regions available; the primary is not. "
                    "Use an unplanned (customer-managed) failover.",
                )
            account.region, account.secondary_region = secondary, primary
        else:
            synced = last_sync(world, account, at)
            written = (
                at if world.regions[primary].down_since is None else min(at, world.regions[primary].down_since or at)
            )
            world.data_loss.append(
                {
                    "kind": "storage.failover",
                    "storage_account": account.name,
                    "mode": "unplanned",
                    "at": iso(at),
                    "from_region": primary,
                    "to_region": secondary,
                    "last_committed_write": iso(written),
                    "last_replicated_write": iso(synced),
                    "lost_seconds": round(max(0.0, written - synced), 3),
                }
            )
            account.region, account.secondary_region = secondary, None
            account.sku = _LOCAL.get(account.sku, "Standard_LRS")
        account.last_failover = at
        return None

    def abort(at: float) -> None:
        account.failover_in_progress = False

    operation = world.operations.create(
        op=OpKind.STORAGE_FAILOVER,
        namespace="Microsoft.Storage",
        location=world.regions[account.secondary_region].location,
        now=ctx.now,
        duration=world.faults.latency(OpKind.STORAGE_FAILOVER),
        complete=complete,
        result_path=None,
        forced_error=(fault.code, fault.message or "The storage account failover failed (sandbox fault).")
        if fault
        else None,
        abort=abort,
        detail={"storage_account": account.name, "planned": planned},
    )
    headers = lro_urls(ctx, operation, "asyncoperations", "asyncoperations")
    # Storage answers with Location only; its URL asks for the monitor view
    headers.pop("Azure-AsyncOperation")
    headers["Location"] += "&monitor=true"
    return Response(202, headers=headers)
