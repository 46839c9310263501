"""What a digest says: worst first, oldest items, counts, change and trend, from the ledger."""

from __future__ import annotations

from datetime import timedelta

from domain.connector import NoLinks
from domain.plan import Finding
from domain.records import ObjectType
from notify.assemble import assemble_digests
from notify.contents import Digest
from tests.notify.conftest import CONNECTION, NOW, Org, finding, make_policy


def digests_of(org: Org, **digest: object) -> dict[str, Digest]:
    policy = make_policy(**digest)
    assert policy.digest is not None
    assembled = assemble_digests(org.sessions, policy, policy.digest, CONNECTION, NOW, NoLinks())
    return {d.recipient.email: d for d in assembled.digests}


def test_reps_worst_first_with_counts_and_change(org: Org) -> None:
    """Maria's digest lists Alex (3, +1) before Jordan (1, no change), with per-rule counts."""
    maria = digests_of(org)["maria.lopez@example.com"]

    assert [(r.name, r.total, r.change) for r in maria.reps] == [("Alex Carter", 3, 1), ("Jordan Blake", 1, 0)]
    alex = maria.reps[0]
    assert [(g.title, g.count) for g in alex.rules] == [
        ("New opportunities not acted on in time", 2), ("New leads not contacted in time", 1)]
    assert (maria.total, maria.previous_total, maria.change) == (4, 3, 1)
    assert maria.key == "digest:crm:maria.lopez@example.com:2026-W47"


def test_oldest_items_first_and_capped(org: Org) -> None:
    """A rep with many items shows the five oldest, each with its age, while the count says all."""
    many = [finding("sla-opp", f"006Z{i:02d}", "005J") for i in range(8)]
    org.finding_run(NOW - timedelta(days=3), many[5:])
    org.finding_run(NOW - timedelta(minutes=5), many)
    jordan = digests_of(org)["maria.lopez@example.com"].reps[0]

    group = jordan.rules[0]
    assert (jordan.name, group.count, len(group.items)) == ("Jordan Blake", 8, 5)
    assert [i.record_id for i in group.items[:3]] == ["006Z05", "006Z06", "006Z07"]
    assert [i.days_open for i in group.items[:4]] == [3, 3, 3, 0]


def test_trend_starts_with_the_first_run(org: Org) -> None:
    """Periods before the ledger's first run are left out of the trend rather than shown as zero."""
    maria = digests_of(org)["maria.lopez@example.com"]

    assert maria.trend == [("16 Nov", 3), ("now", 4)]


def test_a_run_stopped_while_it_synced_does_not_clear_the_digest(org: Org) -> None:
    """A run that ran out of API budget before its rules judged anything says nothing about what is open."""
    from store.ledger import Ledger

    ledger = Ledger(org.sessions)
    stopped = ledger.start_run("all", CONNECTION, dry_run=True, now=NOW - timedelta(minutes=1))
    ledger.finish_run(stopped, "stopped", {"stopped": "sync stopped: the daily API budget is spent"})

    assert digests_of(org)["maria.lopez@example.com"].total == 4


def test_a_team_that_cleared_everything_still_hears_about_it(org: Org) -> None:
    """A manager whose reps fixed every item gets a digest showing the drop to zero."""
    org.finding_run(NOW - timedelta(minutes=1), [finding("sla-opp", "006L1", "005L")])
    maria = digests_of(org)["maria.lopez@example.com"]

    assert (maria.total, maria.change) == (0, -3)
    assert [(r.name, r.total, r.change) for r in maria.reps] == [("Jordan Blake", 0, -1), ("Alex Carter", 0, -2)]


def test_daily_period_in_the_managers_zone(org: Org) -> None:
    """With daily digests the key is the local date, and the change compares with this morning."""
    maria = digests_of(org, period="daily")["maria.lopez@example.com"]

    assert maria.period.key == "2026-11-20"
    assert maria.previous_total == 3


def test_other_connections_and_unfinished_runs_are_ignored(org: Org) -> None:
    """A run still in progress, or another CRM's findings, never reach this connection's digest."""
    from store.ledger import Ledger

    ledger = Ledger(org.sessions)
    running = ledger.start_run("all", CONNECTION, dry_run=True, now=NOW - timedelta(minutes=2))
    ledger.record_findings(running, [finding("sla-opp", "006Q1", "005A", ObjectType.OPPORTUNITY)])
    other = ledger.start_run("all", "other-crm", dry_run=True, now=NOW - timedelta(minutes=2))
    ledger.record_findings(other, [finding("sla-opp", "006Q2", "005A")])
    ledger.finish_run(other, "finished", {})

    assert digests_of(org)["maria.lopez@example.com"].total == 4


def test_big_team_digest_stays_under_gmail_clipping(org: Org) -> None:
    """Forty reps with many long findings give an HTML body under 100 KB that still shows each rule's oldest."""
    from notify.render import render_html
    from store.models import OwnerRow

    with org.sessions.begin() as session:
        for i in range(40):
            session.add(OwnerRow(connection=CONNECTION, id=f"005B{i:02d}", name=f"Rep Number {i:02d}",
                                 email=f"rep{i}@example.com", active=True, is_queue=False, manager_id="005M1",
                                 time_zone=None, updated_at=None))
    long_reason = "Opportunity 'A rather long opportunity name - Expansion' " + "was not acted on in time. " * 8
    many = [
        Finding(rule, ObjectType.OPPORTUNITY, f"006{i:02d}{n}{rule}", f"005B{i:02d}", long_reason)
        for i in range(40) for rule in ("sla-opp", "sla-lead") for n in range(10)
    ]
    org.finding_run(NOW - timedelta(minutes=1), many)
    maria = digests_of(org)["maria.lopez@example.com"]

    html = render_html(maria, "cid:chart")
    assert maria.total == 800
    assert len(html.encode()) < 100_000
    assert all(len(g.items) == 1 and g.count == 10 for r in maria.reps for g in r.rules)
