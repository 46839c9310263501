"""Marketing's digest: how sales took their leads, by source and campaign, as `warden report leads` says (#15)."""

from __future__ import annotations

import html
import json
import re
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

from typer.testing import CliRunner

from jobs.cli import app

NOW = "2026-11-20T15:00:00Z"


def test_the_marketing_digest_carries_the_lead_report_by_source_and_campaign(env: Path) -> None:
    """marketing@example.com gets a digest of its own with the same acceptance rates, reasons and times to
    acceptance as `warden report leads`; the managers' digests do not carry it."""
    assert CliRunner().invoke(app, ["demo", "--now", NOW]).exit_code == 0
    result = CliRunner().invoke(app, ["report", "leads", "--now", NOW, "--json"])
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    digests = env / ".warden" / "digests"
    page = _text((digests / "marketing-example-com.html").read_text())
    overall = report["rows"][0]
    assert f"Acceptance rate {overall['acceptance_rate']:.0f}% of the {overall['accepted'] + overall['rejected']} " \
           f"decided; median {overall['median_hours_to_accept']:.1f} business hours to acceptance" in page
    grouped = [r for r in report["rows"] if r["scope"] in ("source", "campaign")]
    assert {r["scope"] for r in grouped} == {"source", "campaign"} and len(grouped) > 4
    for row in grouped:
        rate = f"{row['acceptance_rate']:.0f}%" if row["acceptance_rate"] is not None else "\u2013"
        hours = f"{row['median_hours_to_accept']:.1f} h" if row["median_hours_to_accept"] is not None else "\u2013"
        assert f" {row['name']} {row['leads']} {row['accepted']} {row['rejected']} {rate} {hours} " in page, row
    assert report["reasons"] and all(f"{r['reason']} ({r['source']}) : {r['leads']}" in page for r in report["reasons"])
    letter = message_from_bytes((digests / "marketing-example-com.eml").read_bytes(), policy=email_policy.default)
    assert str(letter["Subject"]).startswith(f"CRM Warden: your leads, {overall['acceptance_rate']:.0f}% of decided "
                                             "leads accepted")
    text = letter.get_body(preferencelist=("plain",))
    assert text is not None and "Why sales rejected leads:" in text.get_content()
    assert not (digests / "marketing-example-com.png").exists()  # no team, so no chart of open items
    assert "Lead acceptance" not in (digests / "maria-lopez-example-com.html").read_text()


def _text(page: str) -> str:
    """What a reader sees of an HTML page: its text, tags as spaces, runs of white space as one."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())
