"""What a dry run says an apply would do with each action, told one by one or only counted."""

from collections import Counter
from datetime import UTC, datetime

from domain.plan import Action, ActionKind, ActionStatus
from domain.records import ObjectType
from jobs.plan_outcome import dry_run_outcomes, dry_run_tally
from store.claims import Held

AT = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


def action(key: str, rule: str) -> Action:
    return Action(ActionKind.REASSIGN, ObjectType.OPPORTUNITY, key, key, "idle", rule, {"owner_id": "u"})


def test_counted_outcomes_are_the_told_ones_for_every_state_of_a_claim() -> None:
    """Applied, failed, left in flight and never claimed: the tally a worker keeps says what each outcome says."""
    actions = [action(f"k{i}", rule) for i, rule in enumerate(["a", "a", "b", "b", "b", "a"])]
    claims = {"k0": Held(ActionStatus.APPLIED, "r1", AT, None), "k2": Held(ActionStatus.FAILED, "r1", AT, "refused"),
              "k3": Held(ActionStatus.PLANNED, "r2", AT, None), "k5": Held(ActionStatus.APPLIED, "r2", AT, None)}
    told = dry_run_outcomes(actions, claims)
    assert {o.status for o in told} == {"already_applied", "would_retry", "would_apply"}
    assert dry_run_tally(actions, claims) == Counter((o.action.rule, o.status) for o in told)
