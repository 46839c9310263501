"""``warden activity import FILE``: add activities from a CSV file for the ``activity_score`` rule to score."""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from dedupe.export_text import ExportError
from jobs.activity_csv import read_activity_csv
from jobs.inputs import clock_or_exit, crm_or_exit, fail, ledger_failed, open_store, settings_or_exit
from jobs.usage_errors import OneLineUsageErrors
from store.activities import save_activities

app = typer.Typer(help="Activities the activity_score rule scores (web visits, downloads, events...).",
                  no_args_is_help=True, cls=OneLineUsageErrors)
console = Console()


@app.command("import")
def import_activities(
    file: Annotated[Path, typer.Argument(help="CSV with email, type and date columns (name, company, detail "
                                             "optional).")],
    crm: Annotated[str | None, typer.Option(help="The connection the activities belong to: local, salesforce "
                                            "or hubspot (default WARDEN_CRM).")] = None,
    encoding: Annotated[str | None, typer.Option(help="The file's encoding when it is not UTF-8 and has no "
                                                 "byte-order mark, e.g. cp1252.")] = None,
    now: Annotated[str | None, typer.Option(help="Fix the clock (ISO-8601 with offset).")] = None,
) -> None:
    """Check every row, then store them all (or none); `warden run activity` scores them."""
    settings = settings_or_exit()
    connection, moment = crm_or_exit(crm, settings), clock_or_exit(now)
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise fail(f"--encoding: {encoding!r} is not an encoding Python knows: e.g. utf-8, cp1252, latin-1, "
                       "utf-16") from None
    try:
        activities = read_activity_csv(file, encoding, moment)
    except ExportError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror}") from None
    _, sessions = open_store(settings)
    try:
        with sessions.begin() as session:
            stored = save_activities(session, connection, activities)
    except SQLAlchemyError as exc:
        raise ledger_failed(settings, exc, "the import") from None
    people = len({a.email.lower() for a in activities if a.email})
    console.print(f"{file}: {stored} activities of {people} people stored for {connection}; "
                  f"`warden run activity --crm {connection}` scores them.", soft_wrap=True, markup=False,
                  highlight=False)
