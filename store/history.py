"""Read from the ledger what rules need to know about earlier runs (see ``domain.org.History``)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from domain.org import History
from domain.plan import ActionKind, ActionStatus
from store.merge_history import taken_apart
from store.models import ActionRow, RunRow


def load_history(
    sessions: sessionmaker[Session], connection: str, day_start: datetime, window_start: datetime | None = None
) -> History:
    """Applied reassignments per (rule, record) and per new owner; leads created; undone merges.

    Per new owner twice: since ``day_start`` (daily caps) and since ``window_start`` (the round-robin
    load; default ``day_start``).
    """
    applied = (
        select(ActionRow.rule, ActionRow.record_id, func.count(), func.max(ActionRow.updated_at))
        .join(RunRow, RunRow.id == ActionRow.run_id)
        .where(RunRow.connection == connection, ActionRow.kind == ActionKind.REASSIGN.value,
               ActionRow.status == ActionStatus.APPLIED.value)
        .group_by(ActionRow.rule, ActionRow.record_id)
    )
    window_start = window_start or day_start
    since = min(day_start, window_start)
    recent = (
        select(ActionRow.payload, ActionRow.updated_at)
        .join(RunRow, RunRow.id == ActionRow.run_id)
        .where(RunRow.connection == connection, ActionRow.kind == ActionKind.REASSIGN.value,
               ActionRow.status == ActionStatus.APPLIED.value, ActionRow.updated_at >= since)
    )
    created = (
        select(ActionRow.key, ActionRow.result_id)
        .join(RunRow, RunRow.id == ActionRow.run_id)
        .where(RunRow.connection == connection, ActionRow.kind == ActionKind.CREATE_LEAD.value,
               ActionRow.status == ActionStatus.APPLIED.value)
    )
    with sessions() as session:
        created_leads = {key: result_id or "" for key, result_id in session.execute(created)}
        counts: dict[tuple[str, str], int] = {}
        latest: dict[tuple[str, str], datetime] = {}
        for rule, record_id, count, last in session.execute(applied):
            counts[(rule, record_id)] = count
            latest[(rule, record_id)] = last
        today: Counter[str] = Counter()
        window: Counter[str] = Counter()
        for payload, at in session.execute(recent):
            owner = str(payload.get("owner_id"))
            today[owner] += at >= day_start
            window[owner] += at >= window_start
    return History(reassignments=counts, last_reassigned=latest, assigned_today=+today,
                   assigned_recently=+window, created_leads=created_leads,
                   taken_apart=taken_apart(sessions, connection))
