"""Planner statistics on PostgreSQL, brought up to date before rules read the mirror.

Without statistics PostgreSQL guesses that each table holds a few thousand rows. At a million deals
and three million tasks it then finds each batch of an SLA rule's last-activity lookups through the
tasks' status index (0.5 s a batch, 40 s a run) where the ``what_id`` index takes 20 ms. Autovacuum
analyzes a table once a tenth of it changed, but it may be off, or not yet have come to a table that
a first sync (or a bulk load) has just filled: ``refresh`` analyzes the tables past that same
threshold, or never analyzed, and is one catalog query when none is. SQLite plans without them.

An incremental sync refreshes its table's statistics before it writes: it looks up the records it read by id
(what a changed task was about, a deal's stage before). Right after a first sync of ten million records, with
no statistics, PostgreSQL found each batch of 5,000 tasks by filtering the whole table (1.2 s a batch: the sync
of a 1% change took 25.8 s, 6.8 s with the statistics, the analyze included).

Rules' stored judgments (``rule_state``) need them too: a full pass rewrites a rule's share of the
table, and the next incremental pass deletes the judgments that changed by record id. Without
statistics PostgreSQL found those through the ``recheck_at`` index, reading the rule's whole share
for each batch of ids (0.6 s a batch of 5,000 at full size, 3 s for the overdue tasks).
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session, sessionmaker

from store.models import MIRROR_ROWS, ActivityRow, RuleStateRow

STALE_SHARE = 0.1
STALE_ROWS = 1000
"""A table is analyzed again once more rows than this plus ``STALE_SHARE`` of it changed (autovacuum: 50)."""
UNANALYZED_BYTES = 512 * 1024
"""A table never analyzed is analyzed from this size on: smaller ones are read whole in milliseconds."""
PLANNED_TABLES = tuple(sorted({row.__tablename__ for row in MIRROR_ROWS.values()}
                             | {ActivityRow.__tablename__, RuleStateRow.__tablename__}))

# Never analyzed: no row in pg_stats, whose table size does not lag behind the writes as the counters
# of pg_stat_user_tables may (by up to 10 s after a commit).
_STALE = text("""
    SELECT c.relname FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
    WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname IN :tables
      AND (coalesce(s.n_mod_since_analyze, 0) > :rows + :share * greatest(c.reltuples, 0)
           OR (pg_relation_size(c.oid) >= :bytes
               AND NOT EXISTS (SELECT 1 FROM pg_stats p WHERE p.schemaname = n.nspname AND p.tablename = c.relname)))
    ORDER BY c.relname
""").bindparams(bindparam("tables", expanding=True))


def after_write(session: Session, table: str, written: int) -> bool:
    """Analyze ``table`` in the session's transaction if ``written`` rows are past the stale threshold; whether it did.

    For the ledger, which writes a run's worth of rows (1.6 million for a first run at full size) and reads them
    back by record in the next run: without statistics PostgreSQL takes a rule's open rows for a handful and
    filters them by record instead of finding each record's rows (68 s instead of milliseconds for a batch of
    5,000 at full size). Autovacuum comes to the table later; the next run may come first, and the change
    counters lag behind the writes. SQLite plans without them.
    """
    if written == 0 or session.get_bind().dialect.name != "postgresql":
        return False
    known = session.scalar(text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:table)"), {"table": table})
    if known is not None and known >= 0 and written <= STALE_ROWS + STALE_SHARE * known:
        return False
    session.execute(text(f'ANALYZE "{table}"'))
    return True


def refresh(sessions: sessionmaker[Session], tables: Collection[str] = PLANNED_TABLES) -> list[str]:
    """Analyze those of ``tables`` whose statistics are missing or stale (PostgreSQL only); the names analyzed."""
    with sessions.begin() as session:
        if session.get_bind().dialect.name != "postgresql":
            return []
        stale = list(session.scalars(_STALE, {"tables": list(tables), "rows": STALE_ROWS, "share": STALE_SHARE,
                                              "bytes": UNANALYZED_BYTES}))
        for table in stale:
            session.execute(text(f'ANALYZE "{table}"'))
    return stale
