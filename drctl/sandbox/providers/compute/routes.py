"""Microsoft.Compute virtual machine scale sets: get, list, PATCH and PUT (``sku.capacity``) as Azure does it.

``begin_update`` accepts only 200: the PATCH answers 200 with the model (``provisioningState: Updating``,
the new ``sku.capacity``) and an ``Azure-AsyncOperation`` header; ARMPolling follows it, then GETs the scale
set. The instances (what the app endpoint counts) change when the operation completes.

A PUT of an existing scale set (``begin_create_or_update``: what ``az vmss scale`` and ``az vmss update``
send, the model read by a GET, or only its location and sku) is the same update: the tags and properties it
carries replace the old ones instead of merging into them, and a capacity change runs as the same long-running
``vmss.update`` operation, with its faults and its request-log kind. The sandbox does not create scale sets:
they come from the estate.
"""

from __future__ import annotations

import uuid
from typing import Any

from drctl.sandbox.arm.core import ArmError, Ctx, Route, deep_merge, lro_urls, paged
from drctl.sandbox.http import Response, json_response
from drctl.sandbox.lro import Outcome
from drctl.sandbox.ops import OpKind
from drctl.sandbox.providers.compute.model import ScaleSetState
from drctl.sandbox.providers.compute.provider import store
from drctl.sandbox.regions import normalize

_VMSS = "subscriptions/{sub}/resourcegroups/{rg}/providers/microsoft.compute/virtualmachinescalesets/{name}"
_CREATED = "2024-01-15T03:20:00.0000000+00:00"


def routes() -> list[Route]:
    read = OpKind.ARM_READ
    return [
        Route.of("GET", "subscriptions/{sub}/providers/microsoft.compute/virtualmachinescalesets", read, _all),
        Route.of(
            "GET",
            "subscriptions/{sub}/resourcegroups/{rg}/providers/microsoft.compute/virtualmachinescalesets",
            read,
            _by_group,
        ),
        Route.of("GET", _VMSS, read, _get),
        Route.of("PATCH", _VMSS, OpKind.VMSS_UPDATE, lambda ctx: _update(ctx, replace=False)),
        Route.of("PUT", _VMSS, OpKind.VMSS_UPDATE, lambda ctx: _update(ctx, replace=True)),
    ]


#: what ARM computes and never takes from a PUT or PATCH body
_READ_ONLY = ("provisioningState", "uniqueId", "timeCreated")


def _profile(ctx: Ctx, vmss: ScaleSetState) -> dict[str, Any]:
    """``virtualMachineProfile``: a Linux image on managed disks, one NIC in the group's virtual network."""
    network = f"{ctx.rg_id(vmss.resource_group)}/providers/Microsoft.Network"
    premium = "s" in vmss.sku.split("_")[1].lower() if "_" in vmss.sku else False
    return {
        "osProfile": {
            "computerNamePrefix": vmss.name[:9],
            "adminUsername": "azureuser",
            "linuxConfiguration": {
                "disablePasswordAuthentication": True,
                "provisionVMAgent": True,
                "enableVMAgentPlatformUpdates": False,
            },
            "secrets": [],
            "allowExtensionOperations": True,
            "requireGuestProvisionSignal": True,
        },
        "storageProfile": {
            "osDisk": {
                "osType": "Linux",
                "createOption": "FromImage",
                "caching": "ReadWrite",
                "managedDisk": {"storageAccountType": "Premium_LRS" if premium else "Standard_LRS"},
                "diskSizeGB": 30,
            },
            "imageReference": {
                "publisher": "Canonical",
                "offer": "ubuntu-24_04-lts",
                "sku": "server",
                "version": "latest",
            },
            "dataDisks": [],
            "diskControllerType": "SCSI",
        },
        "networkProfile": {
            "networkInterfaceConfigurations": [
                {
                    "name": f"{vmss.name[:9]}Nic",
                    "properties": {
                        "primary": True,
                        "enableAcceleratedNetworking": False,
                        "disableTcpStateTracking": False,
                        "dnsSettings": {"dnsServers": []},
                        "enableIPForwarding": False,
                        "ipConfigurations": [
                            {
                                "name": f"{vmss.name[:9]}IPConfig",
                                "properties": {
                                    "primary": True,
                                    "subnet": {
                                        "id": f"{network}/virtualNetworks/vnet-{vmss.resource_group}/subnets/default"
                                    },
                                    "privateIPAddressVersion": "IPv4",
                                },
                            }
                        ],
                    },
                }
            ]
        },
        "diagnosticsProfile": {"bootDiagnostics": {"enabled": True}},
        "timeCreated": _CREATED,
    }


def vmss_json(ctx: Ctx, vmss: ScaleSetState) -> dict[str, Any]:
    """``VirtualMachineScaleSets_Get``: the sku (capacity), the upgrade policy and the ``virtualMachineProfile``."""
    capacity = vmss.pending_capacity if vmss.pending_capacity is not None else vmss.capacity
    properties: dict[str, Any] = {
        "singlePlacementGroup": False,
        "orchestrationMode": "Uniform",
        "upgradePolicy": {"mode": "Manual"},
        "scaleInPolicy": {"rules": ["Default"], "forceDeletion": False},
        "virtualMachineProfile": _profile(ctx, vmss),
        "provisioningState": vmss.provisioning,
        "overprovision": False,
        "doNotRunExtensionsOnOverprovisionedVMs": False,
        "uniqueId": str(uuid.uuid5(uuid.NAMESPACE_DNS, vmss.name.lower())),
        "platformFaultDomainCount": 1,
        "timeCreated": _CREATED,
    }
    overlay = {k: v for k, v in vmss.overlay.items() if k not in _READ_ONLY}
    return {
        "name": vmss.name,
        "id": f"{ctx.rg_id(vmss.resource_group)}/providers/Microsoft.Compute/virtualMachineScaleSets/{vmss.name}",
        "type": "Microsoft.Compute/virtualMachineScaleSets",
        "location": ctx.world.regions[vmss.region].location,
        "tags": vmss.tags,
        "sku": {"name": vmss.sku, "tier": "Standard", "capacity": capacity},
        "properties": deep_merge(properties, overlay),
    }


def _vmss_of(ctx: Ctx) -> ScaleSetState:
    return ctx.resource(store(ctx.world).scale_sets, "Microsoft.Compute/virtualMachineScaleSets")


def _all(ctx: Ctx) -> Response:
    return paged(ctx, [vmss_json(ctx, s) for s in store(ctx.world).scale_sets.values()])


def _by_group(ctx: Ctx) -> Response:
    return paged(
        ctx,
        [vmss_json(ctx, s) for s in store(ctx.world).scale_sets.values() if s.resource_group.lower() == ctx.rg.lower()],
    )


def _get(ctx: Ctx) -> Response:
    return json_response(200, vmss_json(ctx, _vmss_of(ctx)))


def _update(ctx: Ctx, *, replace: bool) -> Response:
    """PATCH (merge) or PUT (replace) of an existing scale set: one ``vmss.update`` long-running operation."""
    vmss = _vmss_of(ctx)
    body = ctx.body()
    if replace:
        location = body.get("location")
        if not isinstance(location, str) or normalize(location) != normalize(ctx.world.regions[vmss.region].location):
            raise ArmError(
                400,
                "InvalidParameter",
                f"The location '{location}' of scale set '{vmss.name}' cannot be changed: it is "
                f"'{ctx.world.regions[vmss.region].location}'.",
                target="location",
            )
    raw_sku = body.get("sku")
    sku: dict[str, Any] = raw_sku if isinstance(raw_sku, dict) else {}
    capacity = sku.get("capacity", vmss.pending_capacity if vmss.pending_capacity is not None else vmss.capacity)
    if not isinstance(capacity, int) or isinstance(capacity, bool) or not 0 <= capacity <= 1000:
        raise ArmError(
            400,
            "InvalidParameter",
            f"The value '{capacity}' of parameter 'sku.capacity' is not valid: an integer from 0 to 1000.",
            target="sku.capacity",
        )
    properties = body.get("properties")
    # a PUT without tags or properties keeps them: ``az vmss scale`` PUTs only the location and the sku
    if isinstance(body.get("tags"), dict):
        vmss.tags = {str(k): str(v) for k, v in body["tags"].items()}
    if isinstance(properties, dict):
        written = {k: v for k, v in properties.items() if k not in _READ_ONLY}
        vmss.overlay = written if replace else deep_merge(vmss.overlay, written)
    if isinstance(sku.get("name"), str):
        vmss.sku = sku["name"]
    world = ctx.world
    fault = world.faults.take_lro_failure(OpKind.VMSS_UPDATE)
    vmss.pending_capacity = capacity
    vmss.provisioning = "Updating"
    vmss.updates += 1
    update = vmss.updates

    def complete(at: float) -> Outcome:
        if update == vmss.updates:  # a newer PATCH supersedes this one, as ARM's latest model does
            vmss.capacity, vmss.pending_capacity, vmss.provisioning = capacity, None, "Succeeded"
        return None

    def abort(at: float) -> None:
        if update == vmss.updates:
            vmss.pending_capacity, vmss.provisioning = None, "Failed"

    operation = world.operations.create(
        op=OpKind.VMSS_UPDATE,
        namespace="Microsoft.Compute",
        location=world.regions[vmss.region].location,
        now=ctx.now,
        duration=world.faults.latency(OpKind.VMSS_UPDATE),
        complete=complete,
        result_path=None,
        forced_error=(fault.code, fault.message or "The scale set update failed (sandbox fault).") if fault else None,
        abort=abort,
        detail={"scale_set": vmss.name, "capacity": capacity},
    )
    headers = lro_urls(ctx, operation, "operations", None)
    return json_response(200, vmss_json(ctx, vmss), headers)
