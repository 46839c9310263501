"""What ``warden status`` reads from the ledger about one connection's day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, distinct, func, literal, select
from sqlalchemy.orm import Session, sessionmaker

from domain.plan import ActionStatus
from store.claims import claim_key_of
from store.models import ActionRow, ClaimRow, RunRow
from store.recorded import OWN_ACTIONS


@dataclass(frozen=True)
class Activity:
    api_calls: int
    pending_actions: int
    """Planned by an applying run, not yet done (of its own rows: the plan runs share is never done)."""
    pending_digests: int
    """The latest sending digest run did not deliver them."""


def connection_activity(sessions: sessionmaker[Session], connection: str, since: datetime,
                        digest_job: str) -> Activity:
    """API calls the connection's runs spent since ``since``, actions still pending, digests not delivered."""
    today = select(RunRow.summary).where(RunRow.connection == connection, RunRow.started_at >= since)
    pending = (
        select(func.count())
        .select_from(ActionRow)
        .join(RunRow, RunRow.id == ActionRow.run_id)
        .where(RunRow.connection == connection, RunRow.dry_run.is_(False), RunRow.job != digest_job,
               ActionRow.status == ActionStatus.PLANNED.value, OWN_ACTIONS)
    )
    with sessions() as session:
        calls = sum(int((s or {}).get("api_calls", {}).get("total", 0)) for s in session.scalars(today))
        actions = session.scalar(pending) or 0
        digests = session.scalar(_undelivered_digests(connection, digest_job)) or 0
    return Activity(calls, actions, digests)


def _undelivered_digests(connection: str, digest_job: str) -> Select[int]:
    """Digests the latest sending run did not deliver (refused, not attempted): the next run retries them."""
    latest = (
        select(RunRow.id).where(RunRow.connection == connection, RunRow.job == digest_job, RunRow.dry_run.is_(False))
        .order_by(RunRow.started_at.desc()).limit(1).scalar_subquery()
    )
    sent = select(ClaimRow.key).where(ClaimRow.status == ActionStatus.APPLIED.value)
    unsent = claim_key_of(literal(connection), ActionRow.key).not_in(sent)
    return select(func.count(distinct(ActionRow.key))).where(ActionRow.run_id == latest, unsent)
