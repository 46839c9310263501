"""Which ledger rows are a run's: kept as intervals, a finding, a skip or a planned action is shared by runs.

A row of a run's rules belongs to every run whose place in the order of recording (``RunRow.recorded``)
lies from the row's ``opened`` up to, not including, its ``closed`` (``store.models.FindingRow``).
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import InstrumentedAttribute, aliased

from store.models import ActionRow, IntervalRow, RunRow

OWN_ACTIONS = ActionRow.opened.is_(None)
"""The action rows a run records of its own, to claim and mark: not the plan runs share, never applied nor settled."""


def open_at(model: type[IntervalRow],
            place: int | ColumnElement[int | None] | InstrumentedAttribute[int | None]) -> ColumnElement[bool]:
    """The rows of ``model`` open at ``place`` in the order of recording (a run's ``recorded``, or its column)."""
    return and_(model.opened <= place, or_(model.closed.is_(None), model.closed > place))


def recorded_by(model: type[IntervalRow], run: RunRow,
                rules: Collection[str] | None = None) -> ColumnElement[bool]:
    """The rows of ``model`` open at ``run``'s place, of the rules it recorded (and of ``rules`` only, if given)."""
    judged = set(run.rules or ()) if rules is None else set(run.rules or ()) & set(rules)
    if run.recorded is None or not judged:
        return false()
    return and_(model.connection == run.connection, model.rule.in_(sorted(judged)), open_at(model, run.recorded))


def own_rows(model: type[IntervalRow], run: RunRow) -> ColumnElement[bool]:
    """The rows of ``model`` that ``run`` recorded of its own, outside any interval.

    An applying run's actions to claim, a revert's skips, and rows recorded before the table kept intervals.
    """
    return and_(model.run_id == run.id, model.opened.is_(None))


def planned_by(run: RunRow) -> ColumnElement[bool]:
    """The actions ``run`` planned: its own rows, and its plan as kept across runs less what it has own rows for.

    A dry run has no rows of its own. An applying run has them for the actions it claimed, which the kept plan also
    holds: for these its own row says what became of them (asked row by row, so PostgreSQL anti-joins rather than
    hashing the run's own keys, which a first run at full size has by the hundred thousand).
    """
    own = own_rows(ActionRow, run)
    if run.dry_run:
        return or_(own, recorded_by(ActionRow, run))
    mine = aliased(ActionRow)
    claimed = select(mine.id).where(mine.key == ActionRow.key, mine.run_id == run.id, mine.opened.is_(None))
    return or_(own, and_(recorded_by(ActionRow, run), ~claimed.exists()))
