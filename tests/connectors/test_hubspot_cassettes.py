from __future__ import annotations

from typing import Any

import pytest

from tests.connectors.hubspot_cassettes import CASSETTES, SCENARIOS, replay

EXPECTED: dict[str, Any] = {
    "first_sync": {"owner": 2, "account": 3, "contact": 6, "lead": 3, "opportunity": 3, "task": 3, "note": 3},
    "incremental_sync": ["5000000004", "5000000010", "5000000016"],
    "batch_update": [True, False],
    "create_tasks": ["5000000019", "5000000020", "5000000019", "5000000020"],
    "merge_and_restore": True,
    "throttled_and_expired": 2,
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_replays_offline_from_its_cassette(name: str) -> None:
    """Each scenario replays from its cassette with no network, using every recorded request once."""
    result, all_played = replay(name)
    assert result == EXPECTED[name]
    assert all_played


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_cassettes_hold_no_token_or_local_address(name: str) -> None:
    """Recorded cassettes carry no access token, refresh token, secret or local server address."""
    text = (CASSETTES / f"{name}.yaml").read_text()
    for secret in ("test-token", "test-refresh", "Bearer", "127.0.0.1", "token-"):
        assert secret not in text
