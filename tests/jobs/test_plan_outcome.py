"""What a dry run says an apply would do with each action, told one by one or only counted."""

from collections import Counter
from datetime import UTC, datetime

import pytest

from domain.plan import Action, ActionKind, ActionStatus
from domain.records import ObjectType
from jobs.plan_outcome import dry_run_outcomes, dry_run_tally
from store.claims import Held

AT = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def action(key: str, rule: str) -> Action:
    return Action(ActionKind.REASSIGN, ObjectType.OPPORTUNITY, key, key, "idle", rule, {"owner_id": "u"})


def by_rule(actions: list[Action]) -> dict[str, list[Action]]:
    plans: dict[str, list[Action]] = {}
    for a in actions:
        plans.setdefault(a.rule, []).append(a)
    return plans


@pytest.mark.parametrize("claimed", [True, False], ids=["claims held", "no claim"])
def test_counted_outcomes_are_the_told_ones_for_every_state_of_a_claim(claimed: bool) -> None:
    """Applied, failed, left in flight and never claimed: the tally a worker keeps says what each outcome says; with
    no claim held, every action of every rule would apply."""
    actions = [action(f"k{i}", rule) for i, rule in enumerate(["a", "a", "b", "b", "b", "a"])]
    claims = {"k0": Held(ActionStatus.APPLIED, "r1", AT, None), "k2": Held(ActionStatus.FAILED, "r1", AT, "refused"),
              "k3": Held(ActionStatus.PLANNED, "r2", AT, None), "k5": Held(ActionStatus.APPLIED, "r2", AT, None)}
    if not claimed:
        claims.clear()
    told = dry_run_outcomes(actions, claims)
    expected = {"already_applied", "would_retry", "would_apply"} if claimed else {"would_apply"}
    assert {o.status for o in told} == expected
    assert dry_run_tally({**by_rule(actions), "c": []}, claims) == Counter((o.action.rule, o.status) for o in told)
