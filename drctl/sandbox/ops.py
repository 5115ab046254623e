"""The closed set of operation kinds the sandbox can slow down or fail, and the small enums shared by its parts.

Faults name an operation kind; every request the sandbox answers is classified into exactly one kind before
faults are looked up, so a fault on ``web.start`` never touches ``web.stop`` or a read.
"""

from __future__ import annotations

from enum import StrEnum


class OpKind(StrEnum):
    #: a token request to the Entra ID endpoint (``POST /{tenant}/oauth2/v2.0/token``)
    TOKEN = "token"  # noqa: S105 - an operation name, not a secret
    #: any ARM GET or HEAD of a resource or a list (not LRO polls)
    ARM_READ = "arm.read"
    #: a generic ARM PATCH of tags, properties or sku that has no dedicated kind below
    ARM_WRITE = "arm.write"
    #: a GET of an async-operation or Location URL while an LRO is followed
    ARM_POLL = "arm.poll"
    #: failover, forceFailoverAllowDataLoss or tryPlannedBeforeForcedFailover on a SQL failover group
    SQL_FAILOVER = "sql.failover"
    WEB_START = "web.start"
    WEB_STOP = "web.stop"
    #: PATCH or full PUT of an existing virtual machine scale set (sku.capacity): one kind, so a count is a count
    VMSS_UPDATE = "vmss.update"
    #: create-or-update, update or delete of a DNS record set
    DNS_WRITE = "dns.write"
    STORAGE_FAILOVER = "storage.failover"
    #: start or stop of an AKS managed cluster (long-running: the latency is the operation's duration)
    AKS_START = "aks.start"
    AKS_STOP = "aks.stop"
    #: create-or-update of an AKS agent pool (its node count; long-running)
    AKS_POOL_SCALE = "aks.pool.scale"
    #: a read (GET) of the sandbox's Kubernetes API of a cluster
    K8S_READ = "k8s.read"
    #: a write of a Deployment's replicas (PATCH of the Deployment, or GET-less PUT/PATCH of its scale subresource)
    K8S_SCALE = "k8s.scale"
    #: create-or-update (PUT) or update (PATCH) of a Front Door origin: enabledState, priority, weight
    AFD_ORIGIN_UPDATE = "afd.origin.update"
    #: a request to a Front Door endpoint's public host name (the sandbox's edge)
    AFD_EDGE = "afd.edge"
    #: create-or-update (PUT) or update (PATCH) of a Traffic Manager endpoint: enable, disable, re-prioritise
    TM_ENDPOINT_UPDATE = "tm.endpoint.update"
    #: update (PATCH) of a Traffic Manager profile: its status, DNS TTL or monitor settings
    TM_PROFILE_UPDATE = "tm.profile.update"
    #: the health path of a region's app endpoint
    APP_HEALTH = "app.health"
    #: the replication-status path of a region's app endpoint
    APP_REPLICATION = "app.replication"
    #: a POST to the webhook capture sink
    SINK_WEBHOOK = "sink.webhook"
    #: a message (DATA) sent to the SMTP capture sink
    SINK_SMTP = "sink.smtp"


#: operations answered as long-running operations: their latency is the operation's duration, not a delay
#: before the first answer, so the client sees 202/InProgress at once (as Azure does) and polls.
LRO_KINDS = frozenset(
    {
        OpKind.SQL_FAILOVER,
        OpKind.VMSS_UPDATE,
        OpKind.STORAGE_FAILOVER,
        OpKind.AKS_START,
        OpKind.AKS_STOP,
        OpKind.AKS_POOL_SCALE,
        OpKind.AFD_ORIGIN_UPDATE,
    }
)


class RegionStatus(StrEnum):
    UP = "up"
    DOWN = "down"


class ControlPlane(StrEnum):
    """What ARM does for resources located in a region that is down."""

    #: reads answer the last known state, writes get 503 ServiceUnavailable (the default)
    READ_ONLY = "read_only"
    #: reads and writes both get 503 ServiceUnavailable
    UNAVAILABLE = "unavailable"
    #: the control plane keeps working; only the data plane (apps, database writes) is down
    AVAILABLE = "available"


class ReplicationRole(StrEnum):
    PRIMARY = "Primary"
    SECONDARY = "Secondary"


class ReplicationState(StrEnum):
    PENDING = "PENDING"
    SEEDING = "SEEDING"
    CATCH_UP = "CATCH_UP"
    SUSPENDED = "SUSPENDED"


class WebAppState(StrEnum):
    RUNNING = "Running"
    STOPPED = "Stopped"


class FailoverMode(StrEnum):
    PLANNED = "planned"
    FORCED = "forced"
    PLANNED_THEN_FORCED = "planned-then-forced"


class OperationStatus(StrEnum):
    IN_PROGRESS = "InProgress"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


class Service(StrEnum):
    """Which front of the sandbox answered a logged request."""

    ARM = "arm"
    TOKEN = "token"  # noqa: S105 - a service name, not a secret
    APP = "app"
    WEBHOOK = "webhook"
    SMTP = "smtp"
    DNS = "dns"
    KUBE = "kube"
    FRONTDOOR = "frontdoor"
