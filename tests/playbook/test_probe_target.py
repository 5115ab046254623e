"""Safety rule 1 checks that the target's health check really probes the target: its URL's host must come from
the target region's estate, not only its `region:` label. Before, `region: target` on a `${{ source.health_url }}`
probe counted as the target's health check and the playbook validated."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from drctl.planning.load import check_file

PROBE = """\
      url: ${{ target.health_url }}
      samples: 5
      interval: 1s
      expect_body: healthy"""


def with_probe(sample_text: str, url: str, *, label: str = "      region: target\n") -> str:
    assert PROBE in sample_text
    return sample_text.replace(PROBE, f"      url: {url}\n{label}      samples: 5\n      expect_body: healthy", 1)


def errors(path: Path) -> list[str]:
    return [str(d) for d in check_file(path).diagnostics if d.severity == "error"]


def test_a_source_probe_labelled_target_is_no_guard_and_is_refused_at_its_url(
    sample_text: str, write_playbook: Callable[[str], Path]
) -> None:
    text = with_probe(sample_text, "${{ source.health_url }}")
    path = write_playbook(text)
    found = errors(path)
    line = text[: text.index("url: ${{ source.health_url }}\n      region: target")].count("\n") + 1
    assert any(
        e.startswith(f"{path}:{line}:")
        and "does not reach the target (failover and drill modes)" in e
        and "api-aue.wallet.example.com is the source region au-east's (health_url)" in e
        for e in found
    ), found
    assert any("DNS could move before the target passes a health check" in e for e in found), found


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://api-aue.wallet.example.com/healthz", "is the source region au-east's"),
        ("https://api.wallet.example.com/healthz", "is not a host of the target region au-southeast's estate"),
        ("https://${PROBE_HOST}/healthz", "names an environment variable"),
    ],
)
def test_a_literal_url_must_be_a_host_of_the_target(
    sample_text: str, write_playbook: Callable[[str], Path], url: str, why: str
) -> None:
    found = errors(write_playbook(with_probe(sample_text, url)))
    assert any(why in e for e in found), found


@pytest.mark.parametrize(
    "url",
    [
        "https://api-aus.wallet.example.com/healthz",  # the target's health_url host, written out
        "https://app-wallet-api-aus.azurewebsites.net/healthz",  # a target web app's own name
        "https://20.70.20.20/healthz",  # the target's DNS value for api
    ],
)
def test_a_literal_url_of_the_targets_estate_guards_in_failover(
    sample_text: str, write_playbook: Callable[[str], Path], url: str
) -> None:
    found = errors(write_playbook(with_probe(sample_text, url)))
    # failover is guarded; failback (where this literal host is the source's) is refused, as it should be
    assert not any("(failover and drill modes)" in e or "(failover mode)" in e for e in found), found
    assert any("(failback mode)" in e for e in found), found


def test_the_sample_is_valid(sample_text: str, write_playbook: Callable[[str], Path]) -> None:
    assert errors(write_playbook(sample_text)) == []


def test_a_probe_that_guards_no_dns_move_is_left_alone(sample_text: str, write_playbook: Callable[[str], Path]) -> None:
    """Only a guard is judged: a check of the public name after the move is fine, whatever its label."""
    text = sample_text + (
        "\n  - id: public-name\n    uses: health.http\n    needs: [dns-swap]\n    with:\n"
        "      url: https://api.wallet.example.com/healthz\n      region: target\n"
    )
    found = errors(write_playbook(text))
    assert found == []
