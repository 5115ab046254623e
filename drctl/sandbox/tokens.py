"""The Entra ID (v2.0) endpoints azure-identity/MSAL use for a client-credentials token, and token checks.

``ClientSecretCredential(tenant, client, secret, authority="https://127.0.0.1:P",
disable_instance_discovery=True)`` GETs ``/{tenant}/v2.0/.well-known/openid-configuration`` (MSAL needs
``authorization_endpoint`` and ``token_endpoint``, and derives the tenant from the latter's path), then POSTs
the form to ``/{tenant}/oauth2/v2.0/token``. Tokens are JWT-shaped but unsigned (``alg: none``) with a random
third part: azure-identity only decodes them to log the app id at DEBUG, the sandbox only looks them up.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import parse_qsl

from drctl.sandbox.http import Request, Response, json_response

ARM_AUDIENCE = "https://management.azure.com/"
#: the audiences public ARM accepts besides its own URL (Azure CLI asks for the second, the SDKs the first)
PUBLIC_ARM_AUDIENCES = (ARM_AUDIENCE, "https://management.core.windows.net/")


class TokenCheck(Enum):
    VALID = "valid"
    MISSING = "missing"
    INVALID = "invalid"
    EXPIRED = "expired"
    #: a live token issued for another resource (ARM: 401 ``InvalidAuthenticationTokenAudience``)
    WRONG_AUDIENCE = "wrong_audience"


@dataclass(frozen=True)
class Identity:
    tenant_id: str
    client_id: str
    client_secret: str


def audience_of(scope: str) -> str:
    """The resource a v2.0 scope names, as the token's ``aud``: ``https://management.azure.com/.default`` and
    ``https://management.azure.com//.default`` (what the Azure CLI sends) both give ``https://management.azure.com/``."""
    first = scope.split(" ", maxsplit=1)[0].strip()
    _, sep, rest = first.partition("://")
    if sep and "/" in rest:
        first = first.rsplit("/", 1)[0]
    if not sep:
        # an application id scope (``6dae42f8-.../.default``, the AKS server app): the token's aud is the id
        return first.removesuffix("/.default")
    return first.rstrip("/") + "/"


def same_audience(a: str, b: str) -> bool:
    return a.rstrip("/").lower() == b.rstrip("/").lower()


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()


class TokenIssuer:
    def __init__(self, identity: Identity, *, lifetime: int, clock: Any) -> None:
        self.identity = identity
        self._lifetime = lifetime
        self._clock = clock
        #: token -> (expiry, audience); a dict read is atomic under the GIL, writes happen on the loop thread only
        self._tokens: dict[str, tuple[float, str]] = {}

    # ---- HTTP -----------------------------------------------------------------------------------------
    @staticmethod
    def matches(path: str) -> bool:
        lower = path.lower()
        return lower.endswith("/v2.0/.well-known/openid-configuration") or lower.endswith("/oauth2/v2.0/token")

    def handle(self, req: Request) -> Response:
        tenant = req.path.strip("/").split("/", 1)[0]
        trace = str(uuid.uuid4())
        correlation = req.headers.get("client-request-id") or str(uuid.uuid4())
        headers = {"x-ms-request-id": trace, "client-request-id": correlation, "Cache-Control": "no-store, no-cache"}
        if tenant.lower() != self.identity.tenant_id.lower():
            return self._error(
                400,
                "invalid_tenant",
                90002,
                f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing "
                "into the correct cloud.",
                trace=trace,
                correlation=correlation,
                headers=headers,
            )
        if req.path.lower().endswith("/openid-configuration"):
            if req.method != "GET":
                return json_response(405, {"error": "method_not_allowed"}, headers)
            return json_response(200, self._discovery(f"https://{req.host}", tenant), headers)
        if req.method != "POST":
            return json_response(405, {"error": "method_not_allowed"}, headers)
        form = dict(parse_qsl(req.body.decode("utf-8", "replace")))
        return self._token(form, trace=trace, correlation=correlation, headers=headers)

    def _discovery(self, root: str, tenant: str) -> dict[str, Any]:
        base = f"{root}/{tenant}"
        return {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"{root}/oidc/userinfo",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "tid", "appid"],
            "tenant_region_scope": "OC",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
        }

    def _token(self, form: dict[str, str], *, trace: str, correlation: str, headers: dict[str, str]) -> Response:
        grant = form.get("grant_type", "")
        if grant != "client_credentials":
            return self._error(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant}'.",
                trace=trace,
                correlation=correlation,
                headers=headers,
            )
        client_id = form.get("client_id", "")
        if client_id.lower() != self.identity.client_id.lower():
            return self._error(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                f"'{self.identity.tenant_id}'. This can happen if the application has not been installed by the "
                "administrator of the tenant or consented to by any user in the tenant.",
                trace=trace,
                correlation=correlation,
                headers=headers,
            )
        secret = form.get("client_secret")
        if secret is None or not secrets.compare_digest(secret.encode(), self.identity.client_secret.encode()):
            return self._error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret "
                f"value, not the client secret ID, for a secret added to app '{self.identity.client_id}'.",
                trace=trace,
                correlation=correlation,
                headers=headers,
            )
        scope = form.get("scope", f"{ARM_AUDIENCE}.default")
        token, lifetime = self.issue(audience_of(scope))
        return json_response(
            200,
            {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime, "access_token": token},
            headers,
        )

    def _error(
        self,
        status: int,
        error: str,
        code: int,
        description: str,
        *,
        trace: str,
        correlation: str,
        headers: dict[str, str],
    ) -> Response:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        return json_response(
            status,
            {
                "error": error,
                "error_description": f"AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {correlation} "
                f"Timestamp: {stamp}",
                "error_codes": [code],
                "timestamp": stamp,
                "trace_id": trace,
                "correlation_id": correlation,
                "error_uri": f"https://login.microsoftonline.com/error?code={code}",
            },
            headers,
        )

    # ---- tokens ----------------------------------------------------------------------------------------
    def issue(self, audience: str = ARM_AUDIENCE) -> tuple[str, int]:
        now = self._clock()
        expiry = now + self._lifetime
        claims = {
            "aud": audience,
            "iss": f"https://sts.windows.net/{self.identity.tenant_id}/",
            "iat": int(now),
            "nbf": int(now),
            "exp": int(expiry),
            "appid": self.identity.client_id,
            "tid": self.identity.tenant_id,
            "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, self.identity.client_id)),
            "sub": self.identity.client_id,
            "idtyp": "app",
            "ver": "1.0",
            "uti": secrets.token_urlsafe(16),
        }
        token = f"{_b64({'typ': 'JWT', 'alg': 'none'})}.{_b64(claims)}.{secrets.token_urlsafe(32)}"
        self._tokens[token] = (expiry, audience)
        self._prune(now)
        return token, self._lifetime

    def check(self, authorization: str | None, audiences: Collection[str] | None = None) -> TokenCheck:
        """``audiences``: the resources the caller serves (None: any); a token for another one is refused."""
        if not authorization:
            return TokenCheck.MISSING
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return TokenCheck.INVALID
        entry = self._tokens.get(token.strip())
        if entry is None:
            return TokenCheck.INVALID
        expiry, audience = entry
        if expiry <= self._clock():
            return TokenCheck.EXPIRED
        if audiences is not None and not any(same_audience(audience, a) for a in audiences):
            return TokenCheck.WRONG_AUDIENCE
        return TokenCheck.VALID

    def audience(self, authorization: str | None) -> str | None:
        """The ``aud`` of a token this issuer issued (for error messages), else None."""
        _, _, token = (authorization or "").partition(" ")
        entry = self._tokens.get(token.strip())
        return entry[1] if entry else None

    def _prune(self, now: float) -> None:
        if len(self._tokens) > 1000:
            for token, (expiry, _) in list(self._tokens.items()):
                if expiry <= now:
                    del self._tokens[token]
