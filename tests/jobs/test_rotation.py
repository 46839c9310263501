"""Fair rotation across runs: the round-robin load counts the ledger's assignments over a rolling window."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from config.policy_file import parse_policy
from connectors.local import LocalCRM
from domain.records import Opportunity, Owner
from jobs.pipeline import run_job
from store.db import session_factory

NY = ZoneInfo("America/New_York")
START = datetime(2026, 10, 26, 9, 0, tzinfo=NY).astimezone(UTC)  # a Monday morning
WEIGHTS = {"a@x.com": 2.0, "b@x.com": 1.0, "c@x.com": 1.0, "d@x.com": 1.0}
POLICY = """\
calendar: {time_zone: America/New_York}
owners:
  - {email: a@x.com, weight: 2}
teams:
  - {name: Intake, manager: boss@x.com, members: [new@x.com]}
  - {name: East, manager: boss@x.com, members: [a@x.com, b@x.com, c@x.com, d@x.com]}
rules:
  - id: opp-sla
    kind: sla
    object: opportunity
    within: {business_days: 4}
    reassign_to: {kind: round_robin, team: East}
    task: {subject: Act on it}
"""


def test_single_breach_runs_share_work_by_weight(engine: Engine, tmp_path: Path) -> None:
    """300 runs of one breach each: every rep's share is within 5 points of weight / total weight."""
    policy = parse_policy(POLICY)
    people = {"new@x.com": "u-new", "boss@x.com": "u-boss"} | {email: f"u-{email[0]}" for email in WEIGHTS}
    sessions = session_factory(engine)
    clock = [START]
    crm = LocalCRM(tmp_path / "crm.db", clock=lambda: clock[0])
    crm.insert_records([Owner(i, e.split("@")[0], e, time_zone="America/New_York") for e, i in people.items()])
    received: Counter[str] = Counter()
    for n in range(300):
        now = clock[0] = START + timedelta(minutes=10 * n)
        created = now - timedelta(days=10)
        crm.insert_records([Opportunity(f"o{n}", f"Deal {n}", None, "u-new", "Discovery", created, now,
                                        stage_changed_at=created)])
        result = run_job("sla", connector=crm, connection="local", policy=policy, sessions=sessions, now=now,
                         apply=True)
        [reassign] = [a for a in result.actions if a.action.kind.value == "reassign" and a.status == "applied"]
        received[str(reassign.action.payload["owner_id"])] += 1
    crm.close()
    total = sum(WEIGHTS.values())
    shares = {email: received[people[email]] / 300 for email in WEIGHTS}
    assert all(abs(shares[e] - w / total) <= 0.05 for e, w in WEIGHTS.items()), shares
