"""Read from the ledger what rules need to know about earlier runs (see ``domain.org.History``)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from domain.org import History
from domain.plan import ActionKind
from store.merge_history import taken_apart
from store.models import ActionRow, RunRow, applied_actions


def load_history(
    sessions: sessionmaker[Session], connection: str, day_start: datetime, window_start: datetime | None = None
) -> History:
    """Applied reassignments per (rule, record) and per new owner; leads created; undone merges.

    Per new owner twice: since ``day_start`` (daily caps) and since ``window_start`` (the round-robin
    load; default ``day_start``).

    Each reassignment is dated in the time of the run that applied it: the run's moment (its ``now``,
    which ``--now`` sets) plus how far into the run it was applied. The rules judge as of their run's
    moment, so a run as of last Monday counts as last Monday for caps, shares and SLA clocks, however
    late the wall clock stamped its actions; for a run as of the present both are the same.
    """
    applied = (
        select(ActionRow.rule, ActionRow.record_id, ActionRow.payload, ActionRow.updated_at, RunRow.now,
               RunRow.started_at)
        .join(RunRow, RunRow.id == ActionRow.run_id)
        .where(RunRow.connection == connection, ActionRow.kind == ActionKind.REASSIGN.value,
               applied_actions())
    )
    window_start = window_start or day_start
    counts: Counter[tuple[str, str]] = Counter()
    latest: dict[tuple[str, str], datetime] = {}
    today: Counter[str] = Counter()
    window: Counter[str] = Counter()
    created = (
        select(ActionRow.key, ActionRow.result_id)
        .join(RunRow, RunRow.id == ActionRow.run_id)
        .where(RunRow.connection == connection, ActionRow.kind == ActionKind.CREATE_LEAD.value,
               applied_actions())
    )
    with sessions() as session:
        created_leads = {key: result_id or "" for key, result_id in session.execute(created)}
        for rule, record_id, payload, updated_at, run_now, started_at in session.execute(applied):
            at = run_now + (updated_at - started_at)
            counts[(rule, record_id)] += 1
            latest[(rule, record_id)] = max(at, latest.get((rule, record_id), at))
            owner = str(payload.get("owner_id"))
            today[owner] += at >= day_start
            window[owner] += at >= window_start
    return History(reassignments=dict(counts), last_reassigned=latest, assigned_today=+today,
                   assigned_recently=+window, created_leads=created_leads,
                   taken_apart=taken_apart(sessions, connection))
