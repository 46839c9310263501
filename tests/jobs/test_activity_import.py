"""`warden activity import FILE`: a CSV of what people did, checked row by row, then scored by `warden run activity`.

A file with a bad row is refused whole, in one line naming the row, exit 2: nothing half-imported is scored.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors.local import LocalCRM
from domain.records import Lead, ObjectType
from jobs.cli import app
from tests.jobs.probe_support import warden

NOW = "2026-11-20T15:00:00Z"
HEADER = "Email,First Name,Last Name,Company,Activity Type,Date,Detail\n"
ROWS = ("ana@brightline.io,Ana,Silva,Brightline,Web Visit,2026-11-02,/pricing\n"
        "ana@brightline.io,Ana,Silva,Brightline,Download,2026-11-10,CRM hygiene ebook\n"
        "ana@brightline.io,Ana,Silva,Brightline,Event Attendance,11/18/2026,Spring webinar\n"
        "bo@acme.io,Bo,Berg,Acme,Web Visit,2026-11-19 10:30,/blog\n")


def write(env: Path, content: str | bytes) -> str:
    path = env / "activity.csv"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return str(path)


def imported(env: Path, content: str | bytes, *options: str) -> str:
    result = CliRunner().invoke(app, ["activity", "import", write(env, content), "--now", NOW, *options])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_imported_activity_becomes_one_lead_however_often_it_is_imported_and_scored(probe_env: Path) -> None:
    """Ana's 45 points make one lead; importing the file again and running again adds nothing; Bo stays below."""
    assert "4 activities of 2 people stored for local" in imported(probe_env, HEADER + ROWS)
    for _ in range(2):
        imported(probe_env, HEADER + ROWS)
        outcome = CliRunner().invoke(app, ["run", "activity", "--now", NOW, "--apply", "--json"])
        assert outcome.exit_code == 0, outcome.output
    crm = LocalCRM.from_url(f"sqlite:///{probe_env / 'crm.db'}")
    leads = [r for r in crm.iter_changed(ObjectType.LEAD, None) if isinstance(r, Lead) and r.email
             and r.email.endswith(("brightline.io", "acme.io"))]
    assert [(lead.name, lead.email, lead.company) for lead in leads] == [("Ana Silva", "ana@brightline.io",
                                                                         "Brightline")]
    assert "Spring webinar (activity.csv)" in leads[0].extra["description"]
    last = json.loads(CliRunner().invoke(app, ["ledger", "show", "latest", "--json"]).stdout)
    assert last["actions"] == [] or all(a["status"] != "applied" for a in last["actions"])


@pytest.mark.parametrize(("content", "expected"), [
    (HEADER + ROWS + ",Cy,Ng,Initech,Download,2026-11-19,\n", "row 6: no email"),
    (HEADER + ROWS + "cy@initech,Cy,Ng,Initech,Download,2026-11-19,\n", "row 6: 'cy@initech' is not an email"),
    (HEADER + ROWS + "cy@initech.com,Cy,Ng,Initech,,2026-11-19,\n", "row 6: no activity type"),
    (HEADER + ROWS + "cy@initech.com,Cy,Ng,Initech,Download,next week,\n", "row 6: date 'next week' is in no known"),
    ("Email,Name,Date\nana@brightline.io,Ana,2026-11-02\n", "no 'type' column"),
    (HEADER, "no rows below the header"),
    (HEADER + 'ana@brightline.io,Ana,"Silva,Brightline,Web Visit,2026-11-02,x\n', "row 2: a quote opened here"),
])
def test_a_bad_file_is_refused_naming_the_row(probe_env: Path, content: str, expected: str) -> None:
    """No email, a bad email, no type, an unreadable date, a missing column, no rows, a broken quote: one line."""
    line = warden("activity", "import", write(probe_env, content), "--now", NOW).line
    assert expected in line and "activity.csv" in line


def test_cp1252_is_refused_then_read_with_its_encoding(probe_env: Path) -> None:
    """Excel's CSV on Windows: refused naming the line and --encoding, then imported with --encoding cp1252."""
    content = (HEADER + "zoe@societe.fr,Zoé,Dubois,Société Générale,Download,2026-11-19,Guide\n").encode("cp1252")
    line = warden("activity", "import", write(probe_env, content), "--now", NOW).line
    assert "line 2" in line and "--encoding" in line
    assert "1 activities of 1 people" in imported(probe_env, content, "--encoding", "cp1252")
    assert "not an encoding" in warden("activity", "import", write(probe_env, content), "--encoding", "klingon").line
