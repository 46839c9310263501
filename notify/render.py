"""Turn a digest into what people read: a multipart email, or an HTML page for a preview.

The email is ``multipart/alternative``: a plain-text part and an HTML part whose chart is an
inline image (``multipart/related``, referenced as ``cid:``). Both parts come from the Jinja2
templates in ``notify/templates`` and carry the same facts.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from notify.contents import Digest, signed

TEMPLATES = Path(__file__).with_name("templates")
CHART_NAME = "chart.png"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_env.filters["signed"] = signed
_env.filters["plural"] = lambda name: {"opportunity": "Opportunities"}.get(name, f"{name.capitalize()}s")


def environment() -> Environment:
    """The templates' Jinja2 environment (autoescaped HTML, strict about missing values)."""
    return _env


def render_html(digest: Digest, chart_src: str) -> str:
    """The HTML body; ``chart_src`` is ``cid:...`` in an email, a file name in a preview."""
    return _env.get_template("digest.html.j2").render(digest=digest, chart_src=chart_src)


def render_text(digest: Digest) -> str:
    """The plain-text alternative, with the same facts as the HTML."""
    return _env.get_template("digest.txt.j2").render(digest=digest)


def compose(digest: Digest, sender: str, chart_png: bytes | None, sent_at: datetime) -> EmailMessage:
    """The email for one digest (with its chart inline, if any), with a Message-ID derived from its key.

    The same digest always gets the same Message-ID, so in the rare case of a resend after a crash
    between the server's acceptance and the ledger's record, mail clients show it once.
    """
    message = EmailMessage()
    message["Subject"] = digest.subject
    message["From"] = sender
    message["To"] = formataddr((header_safe(digest.recipient.name), digest.recipient.email))
    message["Date"] = format_datetime(sent_at.astimezone(ZoneInfo(digest.period.zone)))
    message["Message-ID"] = _message_id(digest.key, sender)
    chart_id = make_msgid(idstring="chart", domain="crm-warden")
    message.set_content(render_text(digest))
    message.add_alternative(render_html(digest, f"cid:{chart_id[1:-1]}"), subtype="html")
    if chart_png is not None:
        html_part = message.get_body(preferencelist=("html",))
        assert isinstance(html_part, EmailMessage)
        html_part.add_related(chart_png, maintype="image", subtype="png", cid=chart_id, filename=CHART_NAME)
    return message


def header_safe(name: str) -> str:
    """``name`` (from the CRM) fit for a header: line breaks and other control characters become single spaces.

    A line break in a header value would start a new header (``Bcc: ...``), and the email library
    refuses such a value outright, which would stop every digest of the run.
    """
    return " ".join("".join(c if c.isprintable() else " " for c in name).split())


def _message_id(key: str, sender: str) -> str:
    domain = sender.rpartition("@")[2] or "crm-warden"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"
