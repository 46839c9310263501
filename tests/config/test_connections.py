from __future__ import annotations

import pytest

from config.policy_file import PolicyError, parse_policy

TWO_CRMS = """\
version: 1
connections:
  - name: acme-sf
    crm: salesforce
    env_prefix: ACME_SF_
    api_share: 0.3
    schedules: {sla: "*/5 * * * *"}
  - name: acme-hubspot
    crm: hubspot
"""


def problems(text: str) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "p.yaml")
    return [str(p) for p in caught.value.problems]


def test_a_policy_names_several_crm_connections_with_their_own_settings() -> None:
    """Each connection keeps its CRM kind, credential prefix, budget share and schedule overrides."""
    policy = parse_policy(TWO_CRMS)
    first, second = policy.connections
    assert (first.name, first.crm, first.env_prefix, first.api_share) == ("acme-sf", "salesforce", "ACME_SF_", 0.3)
    assert first.schedules == {"sla": "*/5 * * * *"}
    assert (second.name, second.env_prefix, second.schedules) == ("acme-hubspot", None, {})


def test_without_a_connections_block_the_policy_has_none() -> None:
    """An older policy stays valid; the worker then serves the one CRM named by WARDEN_CRM."""
    assert parse_policy("version: 1\n").connections == ()


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ("  - {name: a, crm: local}\n  - {name: a, crm: hubspot}\n", "repeated: a"),
        ("  - {name: a, crm: pipedrive}\n", "connections.0.crm"),
        ("  - {name: a, crm: local, schedules: {sla: every minute}}\n", "'every minute' is not a 5-field cron"),
        ("  - {name: a, crm: local, schedules: {lunch: '0 12 * * *'}}\n", "connections.0.schedules.lunch"),
        ("  - {name: a, crm: local, env_prefix: acme}\n", "connections.0.env_prefix"),
        ("  - {name: a, crm: local, api_share: 2}\n", "connections.0.api_share"),
    ],
)
def test_a_wrong_connection_is_reported_with_its_key(block: str, expected: str) -> None:
    """Duplicate names, unknown CRMs, bad cron, unknown jobs, bad prefixes and shares are refused."""
    found = problems("version: 1\nconnections:\n" + block)
    assert any(expected in p for p in found), found
