"""Planner statistics on PostgreSQL, brought up to date before rules read the mirror.

Without statistics PostgreSQL guesses that each table holds a few thousand rows. At a million deals
and three million tasks it then finds each batch of an SLA rule's last-activity lookups through the
tasks' status index (0.5 s a batch, 40 s a run) where the ``what_id`` index takes 20 ms. Autovacuum
analyzes a table once a tenth of it changed, but it may be off, or not yet have come to a table that
a first sync (or a bulk load) has just filled: ``refresh`` analyzes the tables past that same
threshold, or never analyzed, and is one catalog query when none is. SQLite plans without them.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session, sessionmaker

from store.models import MIRROR_ROWS, ActivityRow

STALE_SHARE = 0.1
STALE_ROWS = 1000
"""A table is analyzed once more rows than this plus ``STALE_SHARE`` of it changed since its last analysis
(autovacuum's threshold is 50 rows), or if it was never analyzed and holds more rows than this."""
MIRROR_TABLES = tuple(sorted({row.__tablename__ for row in MIRROR_ROWS.values()} | {ActivityRow.__tablename__}))

_STALE = text("""
    SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
    WHERE s.schemaname = current_schema() AND s.relname IN :tables
      AND (s.n_mod_since_analyze > :rows + :share * greatest(c.reltuples, 0)
           OR (s.last_analyze IS NULL AND s.last_autoanalyze IS NULL AND greatest(s.n_live_tup, c.reltuples) > :rows))
    ORDER BY s.relname
""").bindparams(bindparam("tables", expanding=True))


def refresh(sessions: sessionmaker[Session], tables: Collection[str] = MIRROR_TABLES) -> list[str]:
    """Analyze those of ``tables`` whose statistics are missing or stale (PostgreSQL only); the names analyzed."""
    with sessions.begin() as session:
        if session.get_bind().dialect.name != "postgresql":
            return []
        stale = list(session.scalars(_STALE, {"tables": list(tables), "rows": STALE_ROWS, "share": STALE_SHARE}))
        for table in stale:
            session.execute(text(f'ANALYZE "{table}"'))
    return stale
