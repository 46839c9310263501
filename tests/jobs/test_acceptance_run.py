"""Accept or reject on the demo org: a rejection without a reason is flagged; with one, the lead goes back to
marketing and shows in `warden report leads` by source."""

import json

from typer.testing import CliRunner

from connectors.local import LocalCRM
from domain.records import Lead, ObjectType
from jobs.cli import app
from tests.jobs.test_route_run import NOW, run


def test_rejected_leads_are_returned_or_flagged_and_reported_by_source(env) -> None:  # type: ignore[no-untyped-def]
    """The demo's rejected leads: three with reasons go to Marketing Queue, one without is flagged with a task."""
    assert CliRunner().invoke(app, ["demo", "--now", NOW]).exit_code == 0
    result = run("accept", "--now", NOW, "--apply")
    rejected = [f for f in result["findings"] if f["record_id"].startswith("led-decided-")]
    flagged = [f for f in rejected if "without a reason" in f["reason"]]
    returned = [a for a in result["actions"] if a["kind"] == "reassign"]
    assert len(flagged) == 1 and len(returned) == 3 and all(a["status"] == "applied" for a in returned)
    tasks = [a for a in result["actions"] if a["record_id"] == flagged[0]["record_id"]]
    assert [t["kind"] for t in tasks] == ["create_task"]
    crm = LocalCRM.from_url(f"sqlite:///{env / 'crm.db'}")
    owners = {lead.id: lead.owner_id for lead in crm.iter_changed(ObjectType.LEAD, None) if isinstance(lead, Lead)}
    assert {owners[a["record_id"]] for a in returned} == {"q-marketing"}
    assert owners[flagged[0]["record_id"]] != "q-marketing"
    out = CliRunner().invoke(app, ["report", "leads", "--now", NOW, "--json"])
    assert out.exit_code == 0, out.stdout
    report = json.loads(out.stdout)
    reasons = {(r["source"], r["reason"]) for r in report["reasons"]}
    assert ("Seminar", "Student, no budget") in reasons and len(report["reasons"]) == 4
    by_source = {r["name"]: r for r in report["rows"] if r["scope"] == "source"}
    assert sum(r["rejected"] for r in by_source.values()) == 4 and by_source["Web"]["acceptance_rate"] is not None
    text = CliRunner().invoke(app, ["report", "leads", "--now", NOW])
    assert "Why sales rejected leads" in text.stdout and "Student, no budget" in text.stdout
