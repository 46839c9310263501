"""`warden run activity` on the demo org: a lead for the person over the threshold, once; a task, not a lead,
for the person already a contact; nothing for the person below it."""

import json
from pathlib import Path

from typer.testing import CliRunner

from connectors.local import LocalCRM
from demo.activity import BELOW_THRESHOLD, NEW_PERSON
from demo.intake import WEB_LEADS
from domain.records import Contact, Lead, ObjectType, Task
from jobs.cli import app

NOW = "2026-11-20T15:00:00Z"


def run(*args: str) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(app, ["run", *args, "--json"])
    assert result.exit_code == 0, result.stdout
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def crm(env: Path) -> LocalCRM:
    return LocalCRM.from_url(f"sqlite:///{env / 'crm.db'}")


def leads_with(env: Path, email: str) -> list[Lead]:
    return [r for r in crm(env).iter_changed(ObjectType.LEAD, None) if isinstance(r, Lead) and r.email == email]


def test_the_demo_shows_each_path_of_leads_from_activity(env: Path) -> None:
    """New person over the threshold: a lead in Web Leads with its score; a contact: a task; below it: nothing."""
    assert CliRunner().invoke(app, ["demo", "--now", NOW]).exit_code == 0
    result = run("activity", "--now", NOW, "--apply")
    kinds = {(a["kind"], a["status"]) for a in result["actions"]}
    assert kinds == {("create_lead", "applied"), ("create_task", "applied")}
    [lead] = leads_with(env, NEW_PERSON[1])
    assert (lead.name, lead.company, lead.owner_id, lead.status) == (NEW_PERSON[0], NEW_PERSON[2], WEB_LEADS.id, "New")
    assert "scored 50 points in 30 days (threshold 40" in lead.extra["description"]
    assert lead.extra["lead_source"] == "Activity score"
    assert leads_with(env, BELOW_THRESHOLD[1]) == []
    [task_finding] = [f for f in result["findings"] if f["object"] == "contact"]
    assert "Already contact" in task_finding["reason"] and "scored 45 points" in task_finding["reason"]
    contact = crm(env).fetch(ObjectType.CONTACT, [task_finding["record_id"]])[task_finding["record_id"]]
    assert isinstance(contact, Contact)
    tasks = [t for t in crm(env).iter_changed(ObjectType.TASK, None) if isinstance(t, Task) and t.who_id == contact.id]
    assert [t.owner_id for t in tasks if "activity score" in t.subject] == [contact.owner_id]


def test_repeated_runs_create_exactly_one_lead_per_person(env: Path) -> None:
    """Three applying runs (later ones see the new lead in the mirror): one lead, one task, nothing more."""
    assert CliRunner().invoke(app, ["demo", "--now", NOW]).exit_code == 0
    for _ in range(3):
        run("activity", "--now", NOW, "--apply")
    again = run("activity", "--now", NOW, "--apply")
    assert [a for a in again["actions"] if a["status"] == "applied"] == []
    assert len(leads_with(env, NEW_PERSON[1])) == 1


def test_the_route_rule_routes_the_new_lead(env: Path) -> None:
    """The lead made from activity waits in Web Leads; the next `warden run route` gives it to a rep."""
    assert CliRunner().invoke(app, ["demo", "--now", NOW]).exit_code == 0
    run("activity", "--now", NOW, "--apply")
    [lead] = leads_with(env, NEW_PERSON[1])
    routed = run("route", "--now", NOW, "--apply")
    assert any(a["record_id"] == lead.id and a["status"] == "applied" for a in routed["actions"])
    [after] = leads_with(env, NEW_PERSON[1])
    assert after.owner_id != WEB_LEADS.id
