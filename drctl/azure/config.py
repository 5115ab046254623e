"""Where Azure is and who we are: endpoints, subscription, credentials, read from the playbook and environment.

``AzureConfig`` is a frozen value built once when a run starts, from the environment mapping it is given (the
process's for a run against Azure, the sandbox's for ``--sandbox``); nothing here reads ``os.environ`` itself.
Nothing here imports the Azure SDK, so the CLI can describe and check the configuration cheaply.

Environment:
- ``AZURE_SUBSCRIPTION_ID`` (or the playbook's ``azure.subscription``), ``AZURE_TENANT_ID``
- ``AZURE_CLIENT_ID`` + ``AZURE_CLIENT_SECRET`` + ``AZURE_TENANT_ID``: a service principal, used directly
- otherwise ``DefaultAzureCredential``: environment, workload identity, managed identity, ``az login``
- ``AZURE_AUTHORITY_HOST``: the Entra ID authority (sovereign clouds, the sandbox)
- ``DRCTL_ARM_ENDPOINT``: the Resource Manager endpoint (default the public cloud's)
- ``DRCTL_ARM_SCOPE``: the token scope (default ``<endpoint>/.default``, or the public one for the default endpoint)
- ``REQUESTS_CA_BUNDLE``: a CA bundle to trust (the sandbox's self-made CA)
- ``DRCTL_POLL_INTERVAL``: seconds between long-running-operation polls when Azure sends no Retry-After
- ``DRCTL_MAX_RETRY_AFTER``: the longest ``Retry-After`` honoured, in seconds (default 60; ``azure/clients.py``)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

from drctl.errors import AzureError, UsageError
from drctl.playbook.refs import ENV_WHOLE

PUBLIC_ARM = "https://management.azure.com"
PUBLIC_SCOPE = "https://management.azure.com/.default"
#: authorities MSAL can discover; any other (Azure Stack, the sandbox) needs instance discovery off
KNOWN_AUTHORITIES = frozenset(
    {
        "login.microsoftonline.com",
        "login.chinacloudapi.cn",
        "login.microsoftonline.us",
        "login.partner.microsoftonline.cn",
    }
)
#: the SDK waits 30 s between polls when a service sends no Retry-After: far too long inside an RTO
DEFAULT_POLL_INTERVAL = 1.0


@dataclass(frozen=True)
class AzureConfig:
    subscription_id: str
    arm_endpoint: str
    credential_scope: str
    authority_host: str | None
    tenant_id: str | None
    client_id: str | None
    #: the secret itself never leaves this object except into the credential
    client_secret: str | None
    ca_bundle: str | None
    poll_interval: float
    #: the longest ``Retry-After`` the SDK waits for (``$DRCTL_MAX_RETRY_AFTER``)
    max_retry_after: float = 60.0

    @property
    def uses_service_principal(self) -> bool:
        return bool(self.client_id and self.client_secret and self.tenant_id)

    @property
    def instance_discovery(self) -> bool:
        if not self.authority_host:
            return True
        return urlparse(self.authority_host).hostname in KNOWN_AUTHORITIES

    def describe(self) -> str:
        """Where and as whom, without any secret: for the live view and the journal."""
        who = f"service principal {self.client_id}" if self.uses_service_principal else "DefaultAzureCredential"
        authority = self.authority_host or "https://login.microsoftonline.com"
        return f"ARM {self.arm_endpoint}, subscription {self.subscription_id}, {who} via {authority}"


def _subscription(playbook_value: str | None, env: Mapping[str, str]) -> str:
    value = playbook_value
    if value is not None:
        whole = ENV_WHOLE.match(value.strip())
        if whole:
            name = whole.group(1)
            if name not in env or not env[name].strip():
                raise UsageError(
                    f"the playbook takes its subscription from ${{{name}}}, which is not set",
                    hint=f"export {name}=<subscription id>, or run against the sandbox with --sandbox",
                )
            value = env[name]
    value = (value or env.get("AZURE_SUBSCRIPTION_ID") or "").strip()
    if not value:
        raise UsageError("no Azure subscription: set azure.subscription in the playbook or AZURE_SUBSCRIPTION_ID")
    return value


def load_config(*, playbook_subscription: str | None, environ: Mapping[str, str]) -> AzureConfig:
    env = environ
    endpoint = (env.get("DRCTL_ARM_ENDPOINT") or PUBLIC_ARM).rstrip("/")
    if urlparse(endpoint).scheme != "https":
        raise AzureError(
            f"DRCTL_ARM_ENDPOINT must be https (got {endpoint}): the Azure SDK never sends a bearer token over http"
        )
    scope = env.get("DRCTL_ARM_SCOPE") or (PUBLIC_SCOPE if endpoint == PUBLIC_ARM else f"{endpoint}/.default")
    authority = env.get("AZURE_AUTHORITY_HOST") or None
    if authority and urlparse(authority).scheme != "https":
        raise AzureError(f"AZURE_AUTHORITY_HOST must be https (got {authority})")
    try:
        poll = float(env.get("DRCTL_POLL_INTERVAL") or DEFAULT_POLL_INTERVAL)
    except ValueError:
        raise UsageError("DRCTL_POLL_INTERVAL must be a number of seconds") from None
    ca_bundle = env.get("REQUESTS_CA_BUNDLE") or None
    if ca_bundle and not os.path.exists(ca_bundle):
        raise AzureError(f"REQUESTS_CA_BUNDLE points at {ca_bundle}, which does not exist")
    return AzureConfig(
        subscription_id=_subscription(playbook_subscription, env),
        arm_endpoint=endpoint,
        credential_scope=scope,
        authority_host=authority,
        tenant_id=env.get("AZURE_TENANT_ID") or None,
        client_id=env.get("AZURE_CLIENT_ID") or None,
        client_secret=env.get("AZURE_CLIENT_SECRET") or None,
        ca_bundle=ca_bundle,
        poll_interval=max(0.05, poll),
        max_retry_after=max_retry_after(env),
    )


#: the variable bounding ``Retry-After`` waits, and its default in seconds
MAX_RETRY_AFTER_ENV = "DRCTL_MAX_RETRY_AFTER"
DEFAULT_MAX_RETRY_AFTER = 60.0


def max_retry_after(environ: Mapping[str, str]) -> float:
    """The longest ``Retry-After`` drctl honours, in seconds (``$DRCTL_MAX_RETRY_AFTER``, default 60)."""
    text = environ.get(MAX_RETRY_AFTER_ENV, "")
    try:
        value = float(text) if text.strip() else DEFAULT_MAX_RETRY_AFTER
    except ValueError:
        return DEFAULT_MAX_RETRY_AFTER
    return max(0.0, value)
