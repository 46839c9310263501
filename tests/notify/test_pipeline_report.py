"""The waterfall's definitions on plain records: reached, decided, went on, days in stage, per sales cycle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from config.policy_file import parse_policy
from domain.records import ObjectType, Opportunity, Owner, StageChange
from notify.pipeline_report import pipeline_report

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
POLICY = parse_policy("""\
teams: [{name: East, manager: boss@x.com, members: [a@x.com]}]
stages:
  opportunity:
    - {name: Discovery, probability: 10}
    - {name: Demo, probability: 40}
    - {name: Won, closed: true, won: true, probability: 100}
    - {name: Lost, closed: true}
  pipelines:
    - name: Partner
      opportunity: [{name: Sourced}, {name: Signed, closed: true, won: true}, {name: Dropped, closed: true}]
""")
OWNERS = {"u-a": Owner("u-a", "Ann A", "a@x.com")}


def deal(deal_id: str, path: list[tuple[str, float]], pipeline: str | None = None) -> tuple[Opportunity,
                                                                                            list[StageChange]]:
    history = [StageChange(ObjectType.OPPORTUNITY, deal_id, T0 + timedelta(days=d), s) for s, d in path]
    last = path[-1][0]
    closed = last in ("Won", "Lost", "Signed", "Dropped")
    record = Opportunity(deal_id, deal_id, None, "u-a", last, T0, T0, is_closed=closed,
                         is_won=last in ("Won", "Signed"), pipeline=pipeline)
    return record, history


def test_decided_records_only_and_each_pipeline_its_own_cycle() -> None:
    """Open deals wait; a deal that skipped a stage passed it; a pipeline with its own stages gets its own waterfall."""
    deals = [
        deal("won", [("Discovery", 0), ("Demo", 4), ("Won", 10)]),
        deal("skipped", [("Discovery", 0), ("Won", 2)]),
        deal("lost-early", [("Discovery", 0), ("Lost", 6)]),
        deal("open", [("Discovery", 0), ("Demo", 8)]),
        deal("partner", [("Sourced", 0), ("Signed", 3)], pipeline="Partner"),
    ]
    report = pipeline_report("crm", T0 + timedelta(days=30), POLICY, OWNERS,
                             {ObjectType.OPPORTUNITY: [d for d, _ in deals]},
                             {ObjectType.OPPORTUNITY: {d.id: h for d, h in deals}})
    default = next(w for w in report.waterfalls if w.object == "opportunity" and w.scope == "company")
    discovery, demo = default.steps

    assert (discovery.reached, discovery.advanced, discovery.dropped, discovery.conversion) == (4, 3, 1, 75.0)
    assert (discovery.median_days, discovery.stays) == (5.0, 4)  # 4, 2, 6 (closed lost) and 8 days
    assert (demo.reached, demo.advanced, demo.dropped, demo.conversion) == (3, 2, 0, 100.0)
    assert discovery.benchmark_conversion == 25.0 and demo.benchmark_conversion == 40.0
    partner = next(w for w in report.waterfalls if w.object == "opportunity (Partner)" and w.scope == "company")
    steps = [(s.stage, s.next_stage, s.reached, s.conversion) for s in partner.steps]
    assert steps == [("Sourced", "Signed", 1, 100.0)]
    assert [w.name for w in report.waterfalls if w.object == "opportunity" and w.scope != "company"] == ["East",
                                                                                                        "Ann A"]
