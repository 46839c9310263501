"""``warden digest``: build each manager's digest, preview it as files, or send it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from config.policy import Policy
from config.settings import Settings
from domain.connector import RecordLinks
from domain.invocation import warden_command
from jobs.connections import record_links
from jobs.worker_setup import chat_transport
from notify.digest import DigestReport, run_digest

DEMO_PREVIEW_DIR = Path(".warden/digests")
DEMO_RECORD_VIEW = Path(".warden/crm/records.html")


def build_digests(
    sessions: sessionmaker[Session],
    settings: Settings,
    policy: Policy,
    crm: str,
    now: datetime,
    *,
    preview: Path | None,
    send: bool,
    links: RecordLinks | None = None,
    test_to: str | None = None,
) -> DigestReport:
    """Digests for one connection, linked to records in that CRM (or by ``links``); sent only with ``send``.

    ``test_to`` sends a test copy of each to that address and records nothing.
    """
    return run_digest(sessions, policy, crm, now, smtp=settings.smtp if send or test_to else None,
                      preview_dir=preview, send=send, link_base=links or record_links(settings, crm),
                      test_to=test_to, chat=chat_transport() if send else None)


def print_digests(report: DigestReport, console: Console) -> None:
    for problem in report.problems:
        console.print(f"[yellow]problem:[/] {problem}")
    for d in report.digests:
        files = " ".join(str(f) for f in d.files if f.suffix == ".html")
        error = f" [red]{d.error}[/]" if d.error else ""
        console.print(f"{d.status:>13}  {d.recipient}  {d.items} items  {d.subject}{error}  {files}")
    for c in report.chats:
        error = f" [red]{c.error}[/]" if c.error else ""
        console.print(f"{c.status:>13}  {c.recipient}  {c.subject}{error}")
    if not report.digests:
        console.print("No digests: no finished rule run has findings for this connection yet "
                      f"(run `{warden_command()} run all`).", markup=False, soft_wrap=True)


def digest_command(report: DigestReport, send: bool, console: Console, test_to: str | None = None) -> None:
    """What ``warden digest`` prints and how it exits, once the digests are built (and sent with ``send``)."""
    print_digests(report, console)
    if test_to:
        console.print(f"Test copies went to {test_to} only; the managers' digests are still unsent.")
    elif not send:
        console.print("Nothing was sent (add --send to deliver through SMTP_*, or --to ADDRESS for a test copy).")
    if report.failed:
        raise typer.Exit(1)


PreviewOption = Annotated[Path | None, typer.Option(help="Write each digest as .eml/.html/.png into this folder.")]
SendOption = Annotated[bool, typer.Option("--send", help="Deliver through the SMTP_* settings.")]
ToOption = Annotated[str | None, typer.Option(
    "--to", metavar="ADDRESS", help="Send a test copy of every digest to this address only (records nothing).")]
