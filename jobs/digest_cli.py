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
from jobs.connections import record_links
from notify.digest import DigestReport, run_digest

DEMO_PREVIEW_DIR = Path(".warden/digests")


def build_digests(
    sessions: sessionmaker[Session],
    settings: Settings,
    policy: Policy,
    crm: str,
    now: datetime,
    *,
    preview: Path | None,
    send: bool,
) -> DigestReport:
    """Digests for one connection, linked to records in that CRM; sent only with ``send``."""
    links = record_links(settings, crm)
    return run_digest(sessions, policy, crm, now, smtp=settings.smtp if send else None,
                      preview_dir=preview, send=send, link_base=links)


def print_digests(report: DigestReport, console: Console) -> None:
    for problem in report.problems:
        console.print(f"[yellow]problem:[/] {problem}")
    for d in report.digests:
        files = " ".join(str(f) for f in d.files if f.suffix == ".html")
        error = f" [red]{d.error}[/]" if d.error else ""
        console.print(f"{d.status:>13}  {d.recipient}  {d.items} items  {d.subject}{error}  {files}")
    if not report.digests:
        console.print("No digests: no finished rule run has findings for this connection yet (run `warden run all`).")


def digest_command(report: DigestReport, send: bool, console: Console) -> None:
    """What ``warden digest`` prints and how it exits, once the digests are built (and sent with ``send``)."""
    print_digests(report, console)
    if not send:
        console.print("Nothing was sent (add --send to deliver through SMTP_*).")
    if report.failed:
        raise typer.Exit(1)


PreviewOption = Annotated[Path | None, typer.Option(help="Write each digest as .eml/.html/.png into this folder.")]
SendOption = Annotated[bool, typer.Option("--send", help="Deliver through the SMTP_* settings.")]
