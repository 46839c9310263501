"""What managers read: worst items first, fixed colours, ages from when the problem began, human words."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from matplotlib.axes import Axes
from sqlalchemy.orm import Session, sessionmaker

from config.policy import DedupeRule, OverdueRule, Policy
from domain.connector import NoLinks
from domain.plan import Action, ActionKind, Finding
from domain.records import ObjectType, TaskPriority
from notify.assemble import assemble_digests
from notify.categories import rule_categories
from notify.chart import render_chart
from notify.contents import Digest
from notify.render import render_html, render_text
from store.db import make_engine, migrate, session_factory
from store.ledger import Ledger
from store.models import OpportunityRow, OwnerRow
from tests.enforcement import families
from tests.notify.conftest import CONNECTION, NOW, OWNERS, Org, finding, make_policy


def digests(org: Org, policy: Policy | None = None, now: datetime = NOW) -> dict[str, Digest]:
    policy = policy or make_policy()
    assert policy.digest is not None
    assembled = assemble_digests(org.sessions, policy, policy.digest, CONNECTION, now, NoLinks())
    return {("morning " if d.personal else "") + d.recipient.email: d for d in assembled.digests}


def overdue(record_id: str, owner: str, days_late: int) -> Finding:
    due = (NOW - timedelta(days=days_late)).date()
    return Finding("sla-opp", ObjectType.TASK, record_id, owner, f"Task {record_id} is {days_late} days overdue",
                   {"since": datetime.combine(due, datetime.min.time(), UTC).isoformat()})


def test_worst_items_first_on_a_first_digest(org: Org) -> None:
    """All items first seen in one run: the most overdue are shown, not whichever sorts first by id."""
    lateness = [1, 50, 3, 58, 2, 55, 7, 52]
    org.finding_run(NOW - timedelta(minutes=5), [overdue(f"t{i}", "005J", d) for i, d in enumerate(lateness)])
    group = digests(org)["maria.lopez@example.com"].reps[0].rules[0]

    assert [i.record_id for i in group.items] == ["t3", "t5", "t7", "t1", "t6"]
    assert [i.days_open for i in group.items] == [58, 55, 52, 50, 7]
    assert "(worst 5 shown)" in render_text(digests(org)["maria.lopez@example.com"])


def test_bigger_deal_first_when_problems_began_together(org: Org) -> None:
    """Two deals stale since the same day: the bigger amount leads."""
    since = (NOW - timedelta(days=70)).isoformat()
    org.finding_run(NOW - timedelta(minutes=5), [
        Finding("sla-opp", ObjectType.OPPORTUNITY, f"006{n}", "005J", "stale", {"since": since, "amount": amount})
        for n, amount in (("S", 5_000.0), ("B", 90_000.0), ("M", 20_000.0))
    ])
    group = digests(org)["maria.lopez@example.com"].reps[0].rules[0]

    assert [i.record_id for i in group.items] == ["006B", "006M", "006S"]


BARH = Axes.barh


def _bar_colours(digest: Digest, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    original = BARH

    def spy(self: Axes, *args: Any, **kwargs: Any) -> Any:
        seen[kwargs["label"]] = kwargs["color"]
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Axes, "barh", spy)
    render_chart(digest)
    return seen


def test_each_kind_of_problem_keeps_its_colour_in_every_digest(org: Org, monkeypatch: pytest.MonkeyPatch) -> None:
    """'New opportunities not acted on in time' is one colour whether or not leads are in the digest too."""
    both = _bar_colours(digests(org)["maria.lopez@example.com"], monkeypatch)
    org.finding_run(NOW - timedelta(minutes=1), [finding("sla-opp", "006A1", "005A")])
    alone = _bar_colours(digests(org)["maria.lopez@example.com"], monkeypatch)

    title = "New opportunities not acted on in time"
    assert set(both) == {title, "New leads not contacted in time"} and set(alone) == {title}
    assert both[title] == alone[title]


def test_first_digest_has_no_change_and_no_trend(sessions: sessionmaker[Session]) -> None:
    """Before any earlier run there is nothing to compare with: no '+N since the last digest', no trend."""
    org = Org(sessions)
    org.finding_run(NOW - timedelta(hours=1), [finding("sla-opp", "006A1", "005A"),
                                               finding("sla-opp", "006J1", "005J")])
    maria = digests(org)["maria.lopez@example.com"]
    text, html = render_text(maria), render_html(maria, "chart.png")

    assert maria.previous_total is None and maria.trend == []
    assert "since the last digest" not in text and "since the last digest" not in html
    assert "+2" not in maria.subject and "+2" not in text


def test_items_are_aged_from_when_the_problem_began(org: Org) -> None:
    """A task 12 days overdue reads 'open 12 days' even on the first run that saw it."""
    org.finding_run(NOW - timedelta(minutes=5), [overdue("t1", "005J", 12)])
    text = render_text(digests(org)["maria.lopez@example.com"])

    assert "12 days" in text and "open 0 days" not in text


def test_an_alert_done_by_an_earlier_run_reads_as_done(org: Org) -> None:
    """After an applying run alerted the owner, the next run's duplicate alert is not shown as 'skipped'."""
    alert = Action(ActionKind.NOTIFY, ObjectType.OPPORTUNITY, "006J9", "sla-opp:006J9:day", "late", "sla-opp")
    for minutes in (30, 5):
        at = NOW - timedelta(minutes=minutes)
        ledger = Ledger(org.sessions, clock=lambda at=at: at)
        run_id = ledger.start_run("all", CONNECTION, dry_run=False, now=at)
        ledger.record_findings(run_id, [finding("sla-opp", "006J9", "005J")])
        [action_id] = ledger.record_actions(run_id, [alert])
        claim = ledger.claim(action_id)
        if claim.proceed:
            ledger.mark_applied(action_id)
        else:
            ledger.mark_skipped(action_id, claim.reason or "")
        ledger.finish_run(run_id, "finished", {})
    text = render_text(digests(org)["maria.lopez@example.com"])

    assert "skipped" not in text
    assert "owner or manager alerted" in text


def test_no_rule_slugs_as_titles() -> None:
    """Every rule family has a title a manager reads; none falls back to the policy's rule id."""
    policy = Policy(rules=(DedupeRule(id="new-duplicates", kind="dedupe"),
                           OverdueRule(id="overdue-tasks", kind="overdue")))
    titles = {rule: c.title for rule, c in rule_categories(policy).items()}

    assert titles["new-duplicates"] != "new-duplicates" and "duplicate" in titles["new-duplicates"].lower()
    assert titles["overdue-tasks"] == "Overdue tasks"


def test_duplicate_finding_speaks_to_managers_not_to_the_cli() -> None:
    """The new-duplicate finding names no command: a manager cannot run `warden dedupe plan`."""
    result = _duplicates_result()
    assert result.findings
    for found in result.findings:
        assert "warden" not in found.reason and "`" not in found.reason


def _duplicates_result() -> Any:
    from config.policy_file import parse_policy
    from domain.records import Account
    from enforcement.calendar import BusinessCalendar
    from enforcement.context import RuleContext
    from enforcement.duplicates import evaluate
    from tests.memory_org import InMemoryOrg

    policy = parse_policy("rules: [{id: new-duplicates, kind: dedupe}]\n")
    rule = policy.rules[0]
    assert isinstance(rule, DedupeRule)
    old = Account("a1", "Acme Products, Inc.", "u-a", NOW - timedelta(days=300), NOW, website="acme.com")
    new = Account("a2", "Acme Products", "u-a", NOW - timedelta(days=1), NOW, website="acme.com")
    ctx = RuleContext(policy, BusinessCalendar(policy.calendar), NOW, {o.id: o for o in families.OWNERS})
    return evaluate(rule, ctx, InMemoryOrg([*families.OWNERS, old, new]))


def test_a_reps_own_list_does_not_tell_them_to_tell_themselves(org: Org) -> None:
    """Alex's morning list shows his overdue task without 'Tell Alex Carter (assignee)'."""
    result = families.evaluate("overdue", [families.task("t1", due_date=date(2026, 10, 10),
                                                         priority=TaskPriority.HIGH)])
    [found] = result.findings
    assert "Tell Ann A (assignee)" in found.reason
    with org.sessions.begin() as session:
        session.add(OwnerRow(connection=CONNECTION, id="u-a", name="Ann A", email="a@x.com", active=True,
                             is_queue=False, manager_id="005M1", time_zone=None, updated_at=None))
    org.finding_run(NOW - timedelta(minutes=5), [found])
    policy = make_policy(morning_list=["a@x.com"])
    policy = policy.model_copy(update={"rules": (*policy.rules, OverdueRule(id="overdue", kind="overdue"))})
    ann = digests(org, policy)["morning a@x.com"]

    assert "Tell Ann A" not in render_text(ann) and "Tell Ann A" not in render_html(ann, "")


def test_deactivated_owners_work_is_not_called_late(org: Org) -> None:
    """A deactivated owner's records read as work to hand over, not as 'not acted on in time'."""
    with org.sessions.begin() as session:
        session.add(OwnerRow(connection=CONNECTION, id="005G", name="Gone Gale", email="gone@example.com",
                             active=False, is_queue=False, manager_id="005M1", time_zone=None, updated_at=None))
    gone = Finding("sla-opp", ObjectType.OPPORTUNITY, "006G1", "005G",
                   "Opportunity 'Deal': its owner Gone Gale is deactivated. Reassign to Alex Carter (round-robin).",
                   {"owner_active": False, "since": (NOW - timedelta(days=2)).isoformat()})
    org.finding_run(NOW - timedelta(minutes=5), [gone])
    maria = digests(org)["maria.lopez@example.com"]
    rep = next(r for r in maria.reps if r.owner_id == "005G")

    assert [g.title for g in rep.rules] == ["Work of deactivated owners to hand over"]
    assert "(deactivated)" in rep.name
    assert "not acted on in time" not in render_text(maria).split("Gone Gale")[1].split("==")[1]


def test_items_show_record_names_not_ids(org: Org) -> None:
    """The item's text is the record's name from the mirror ('Acme - 50 seats'), not 'opportunity 006A1'."""
    with org.sessions.begin() as session:
        session.add(OpportunityRow(
            connection=CONNECTION, id="006A1", name="Acme - 50 seats", account_id=None, owner_id="005A",
            stage="Discovery", created_at=NOW, updated_at=NOW, stage_changed_at=None, amount=None, probability=None,
            close_date=None, is_closed=False, is_won=False, pipeline=None, partner_account_id=None, extra={}))
    maria = digests(org)["maria.lopez@example.com"]
    item = next(i for r in maria.reps for g in r.rules for i in g.items if i.record_id == "006A1")

    assert item.name == "Acme - 50 seats"
    assert "Acme - 50 seats" in render_html(maria, "") and "opportunity 006A1" not in render_html(maria, "")


def test_morning_list_is_dated_by_the_recipients_day(tmp_path: Path) -> None:
    """At 05:00 on Thu 03 Dec in New York (before the send hour) the list is dated Thu 03 Dec, not Wed 02 Dec."""
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(engine)
    org = Org(session_factory(engine))
    with org.sessions.begin() as session:
        for owner_id, name, email, manager_id in OWNERS:
            session.add(OwnerRow(connection=CONNECTION, id=owner_id, name=name, email=email, active=True,
                                 is_queue=False, manager_id=manager_id, time_zone="America/New_York",
                                 updated_at=None))
    now = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    org.finding_run(now - timedelta(minutes=5), [finding("sla-opp", "006A1", "005A")])
    alex = digests(org, make_policy(morning_list=["alex.carter@example.com"]), now)["morning alex.carter@example.com"]

    assert alex.subject.endswith("Thu 03 Dec")
    assert "Wed 02 Dec" not in render_text(alex)

