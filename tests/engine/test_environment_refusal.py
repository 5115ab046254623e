"""A run resumes only where it began (engine/resume.py ``environment_refusal``): pure cases."""

from __future__ import annotations

from drctl.engine.events import Environment, target_digest
from drctl.engine.resume import environment_refusal

PUBLIC = "https://management.azure.com"
SUB = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"


def azure(endpoint: str = PUBLIC, subscription: str = SUB, tenant: str | None = None) -> Environment:
    return Environment(
        kind="azure",
        arm_endpoint=endpoint,
        tenant=tenant,
        subscription=subscription,
        target_sha256=target_digest(endpoint, subscription),
    )


def sandbox(estate: str | None, *, port: int = 4443, embedded: bool = False) -> Environment:
    endpoint = f"https://127.0.0.1:{port}"
    return Environment(
        kind="sandbox",
        arm_endpoint=endpoint,
        subscription=SUB,
        estate_sha256=estate,
        embedded=embedded,
        target_sha256=target_digest(endpoint, SUB),
    )


def test_the_same_azure_resumes_and_another_subscription_or_tenant_does_not() -> None:
    assert environment_refusal(azure(), azure()) is None
    assert environment_refusal(azure(tenant="t1"), azure(tenant=None)) is None  # one side names no tenant
    assert environment_refusal(azure(tenant="[redacted:AZURE_TENANT_ID]"), azure(tenant="t2")) is None
    other = environment_refusal(azure(), azure(subscription="11111111-1bf0-4dda-aec3-cb9272f09590"))
    assert other is not None
    assert "it ran against Azure" in other[0]
    assert environment_refusal(azure(tenant="t1"), azure(tenant="t2")) is not None
    assert environment_refusal(azure(), sandbox("e" * 64)) is not None


def test_a_rehearsal_never_resumes_against_azure_and_says_how_to_resume_it() -> None:
    refused = environment_refusal(sandbox("e" * 64, embedded=True), azure())
    assert refused is not None
    message, hint = refused
    assert "rehearsal on a sandbox" in message
    assert hint.format(run="RUN").startswith("drctl resume RUN --sandbox")
    assert environment_refusal(sandbox("e" * 64, embedded=True), Environment(kind="none")) is not None


def test_a_rehearsal_resumes_on_any_sandbox_seeded_with_the_same_estate() -> None:
    began = sandbox("e" * 64, embedded=True)
    assert environment_refusal(began, sandbox("e" * 64, port=5555, embedded=True)) is None
    assert environment_refusal(sandbox("e" * 64), sandbox("e" * 64, port=5555)) is None  # `sandbox up` again
    other = environment_refusal(began, sandbox("f" * 64, embedded=True))
    assert other is not None
    assert "seeded otherwise" in other[0]
    # a sandbox of an older `sandbox up` names no estate: only the very same sandbox will do
    assert environment_refusal(sandbox(None), sandbox(None)) is None
    assert environment_refusal(sandbox(None), sandbox(None, port=5555)) is not None


def test_a_journal_without_an_environment_is_not_checked() -> None:
    assert environment_refusal(None, azure()) is None
