"""Cron expressions as the policy writes them and the scheduler reads them: one check for both.

``warden policy check``, a run and the worker's scheduler (``jobs.schedule``) all call
:func:`cron_problem`, so an expression the check accepts is one the worker can schedule.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from croniter import CroniterBadDateError, croniter
from pydantic import AfterValidator

FIELDS = "minute hour day-of-month month day-of-week"
_SEARCH_FROM = datetime(2001, 1, 1)
"""Any start will do: croniter searches decades ahead, and the rarest real date (29 February) recurs in 8 years."""


def cron_problem(expression: str) -> str | None:
    """Why the scheduler cannot use ``expression``, or None when it can."""
    if len(expression.split()) != 5 or not croniter.is_valid(expression):
        return f"{expression!r} is not a 5-field cron expression ({FIELDS}), e.g. '*/15 * * * *'"
    try:
        croniter(expression, _SEARCH_FROM).get_next(datetime)
    except CroniterBadDateError:
        return f"{expression!r} never fires: no month has that day (e.g. 31 February)"
    return None


def check_cron(expression: str) -> str:
    """``expression`` itself; a ``ValueError`` saying what is wrong when the scheduler cannot use it."""
    problem = cron_problem(expression)
    if problem is not None:
        raise ValueError(problem)
    return expression


CronExpression = Annotated[str, AfterValidator(check_cron)]
"""A policy field holding a cron expression (company time zone)."""
