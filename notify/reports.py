"""The managers' reports, read from the mirror and the ledger: speed-to-lead and the pipeline's shape."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from config.policy import AcceptanceRule, Policy, SlaRule
from domain.records import Lead, ObjectType, Owner
from notify.lead_report import LeadReport, lead_report
from notify.pipeline_report import PipelineReport, pipeline_report
from notify.sla_report import NewRecords, SlaReport, sla_report
from store import mirror, report_queries, stage_history

OBJECTS = (ObjectType.LEAD, ObjectType.OPPORTUNITY)
SLA_WINDOW_DAYS = 30


def load_sla_report(
    sessions: sessionmaker[Session], policy: Policy, connection: str, now: datetime, days: int = SLA_WINDOW_DAYS
) -> SlaReport:
    """Speed-to-lead over the leads and opportunities created in the ``days`` before ``now``."""
    since = now - timedelta(days=days)
    data = load_speed_data(sessions, policy, connection, since)
    return sla_report(connection, now, since, policy, data.owners, data.new, data.taken_from)


@dataclass(frozen=True)
class SpeedData:
    """What speed-to-lead reports over any window since ``since`` are computed from, read once."""

    owners: dict[str, Owner]
    new: dict[ObjectType, NewRecords]
    taken_from: list[tuple[str, str, str | None, datetime]]


def load_speed_data(sessions: sessionmaker[Session], policy: Policy, connection: str, since: datetime) -> SpeedData:
    """The leads and opportunities created since ``since``, their first touches, and the SLA reassignments."""
    sla_rules = [r.id for r in policy.rules if isinstance(r, SlaRule)]
    with sessions() as session:
        new = {}
        for obj in OBJECTS:
            records = report_queries.created_since(session, connection, obj, since)
            new[obj] = NewRecords(records, report_queries.first_completed_activity(session, connection, obj, since),
                                  stage_history.histories(session, connection, obj, [r.id for r in records]))
        taken = report_queries.sla_reassignments(session, connection, sla_rules)
        owners = mirror.owners(session, connection)
    return SpeedData(owners, new, taken)


def load_pipeline_report(
    sessions: sessionmaker[Session], policy: Policy, connection: str, now: datetime
) -> PipelineReport:
    """The waterfall and the reps' forecast tendencies over every mirrored lead and opportunity."""
    with sessions() as session:
        records = {obj: list(report_queries.all_of(session, connection, obj)) for obj in OBJECTS}
        histories = {obj: stage_history.histories(session, connection, obj) for obj in OBJECTS}
        owners = mirror.owners(session, connection)
    return pipeline_report(connection, now, policy, owners, records, histories)


def load_lead_report(sessions: sessionmaker[Session], policy: Policy, connection: str, now: datetime,
                     days: int = SLA_WINDOW_DAYS) -> LeadReport:
    """Acceptance by source and campaign over the leads created in the ``days`` before ``now``.

    Raises:
        ValueError: the policy has no enabled ``acceptance`` rule to judge the leads by.
    """
    rule = next((r for r in policy.rules if isinstance(r, AcceptanceRule) and r.enabled), None)
    if rule is None:
        raise ValueError("the policy has no `kind: acceptance` rule: it says which lead statuses mean accepted "
                         "and rejected")
    since = now - timedelta(days=days)
    routes = [r.id for r in policy.rules if r.kind == "route"]
    with sessions() as session:
        leads = [r for r in report_queries.created_since(session, connection, ObjectType.LEAD, since)
                 if isinstance(r, Lead)]
        history = stage_history.histories(session, connection, ObjectType.LEAD, [r.id for r in leads])
        routed: dict[str, datetime] = {}
        for _, record_id, _, at in report_queries.sla_reassignments(session, connection, routes):
            routed.setdefault(record_id, at)
        owners = mirror.owners(session, connection)
    return lead_report(connection, now, since, policy, rule, owners, leads, history, routed)
