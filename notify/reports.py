"""The managers' reports, read from the mirror and the ledger: speed-to-lead and the pipeline's shape."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from config.policy import Policy, SlaRule
from domain.records import ObjectType
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
    sla_rules = [r.id for r in policy.rules if isinstance(r, SlaRule)]
    with sessions() as session:
        new = {
            obj: NewRecords(
                [r for r in report_queries.created_since(session, connection, obj, since) if r.created_at <= now],
                report_queries.first_completed_activity(session, connection, obj, since),
                stage_history.histories(session, connection, obj),
            )
            for obj in OBJECTS
        }
        taken = report_queries.sla_reassignments(session, connection, sla_rules)
        owners = mirror.owners(session, connection)
    return sla_report(connection, now, since, policy, owners, new, taken)


def load_pipeline_report(
    sessions: sessionmaker[Session], policy: Policy, connection: str, now: datetime
) -> PipelineReport:
    """The waterfall and the reps' forecast tendencies over every mirrored lead and opportunity."""
    with sessions() as session:
        records = {obj: list(report_queries.all_of(session, connection, obj)) for obj in OBJECTS}
        histories = {obj: stage_history.histories(session, connection, obj) for obj in OBJECTS}
        owners = mirror.owners(session, connection)
    return pipeline_report(connection, now, policy, owners, records, histories)
