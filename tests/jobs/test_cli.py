import json
from pathlib import Path

from typer.testing import CliRunner

from config.settings import PACKAGED_POLICY
from connectors.local import LocalCRM
from demo.activity import NEW_PERSON
from domain.records import Lead, ObjectType
from jobs.cli import app

NOW = "2026-11-20T15:00:00Z"


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout


def test_demo_shows_findings_of_every_family_and_previews_digests(env: Path) -> None:
    """`warden demo` is a dry run that explains SLA breaches and leaves a digest preview per manager."""
    code, out = invoke("demo", "--now", NOW)
    assert code == 0, out
    assert "DRY RUN: nothing was changed" in out and "did not act on it within 2 business hours" in out
    for rule in ("sla-new-opportunity", "sla-first-contact", "stale-deals", "stale-leads", "customer-calls",
                 "overdue-tasks", "opportunity-gates"):
        assert rule in out
    assert sorted(p.name for p in (env / ".warden/digests").glob("*.html"))[:1] == ["kenji-sato-example-com.html"]


def test_run_json_follows_the_contract_and_apply_twice_applies_nothing_new(env: Path) -> None:
    """--json prints one object with the documented keys; a second --apply run applies nothing."""
    invoke("demo", "--now", NOW)
    code, out = invoke("run", "sla", "--now", NOW, "--apply", "--json")
    assert code == 0, out
    first = json.loads(out)
    assert set(first) >= {"run_id", "job", "crm", "dry_run", "now", "findings", "actions", "summary"}
    assert first["dry_run"] is False and first["summary"]["actions_by_status"].get("applied", 0) > 0
    assert {"rule", "object", "record_id", "owner_id", "reason", "evidence"} <= set(first["findings"][0])
    assert {"kind", "object", "record_id", "key", "status", "reason", "error"} <= set(first["actions"][0])
    assert first["summary"]["api_calls"]["write"] >= 1
    code, out = invoke("run", "sla", "--now", NOW, "--apply", "--json")
    assert json.loads(out)["summary"]["actions_by_status"].get("applied", 0) == 0
    code, shown = invoke("ledger", "show", first["run_id"], "--json")
    assert code == 0 and json.loads(shown)["actions"] == first["actions"]


def test_policy_check_names_the_bad_key_and_line(env: Path) -> None:
    """A policy with a typo fails the check with exit 1; the shipped one passes."""
    bad = env / "bad.yaml"
    bad.write_text("version: 1\ncalendar:\n  time_zon: UTC\n")
    result = CliRunner().invoke(app, ["policy", "check", str(bad)])
    assert result.exit_code == 1
    assert "line 3: calendar.time_zon: Extra inputs are not permitted" in result.stderr
    assert invoke("policy", "check", str(PACKAGED_POLICY))[0] == 0


def test_unknown_job_and_crm_are_refused_with_the_choices(env: Path) -> None:
    """A typo in the job or CRM name says what would have been accepted."""
    result = CliRunner().invoke(app, ["run", "stail"])
    choices = "sla, stale, cadence, overdue, gates, dedupe, route, accept, activity, all"
    assert result.exit_code == 2 and choices in result.output
    result = CliRunner().invoke(app, ["run", "all", "--crm", "pipedrive"])
    assert result.exit_code == 2 and "local, salesforce, hubspot" in result.stderr


def test_run_refuses_while_the_worker_holds_the_job(env: Path) -> None:
    """A manual run does not race the scheduled worker: the same job on the same CRM waits its turn."""
    from store.db import make_engine
    from store.locks import locks_for

    invoke("demo", "--now", NOW)
    locks = locks_for(make_engine(f"sqlite:///{env / 'warden.db'}"))
    with locks.hold("sla", "local") as held:
        assert held
        result = CliRunner().invoke(app, ["run", "sla", "--now", NOW, "--apply"])
    assert result.exit_code == 1 and "job 'sla' for 'local' is running in another process" in result.stderr
    assert invoke("run", "sla", "--now", NOW)[0] == 0


def test_digest_to_a_malformed_address_is_one_line_and_exit_2(env: Path) -> None:
    """`warden digest --to me@` says what is wrong with the address and sends nothing."""
    invoke("demo", "--now", NOW)
    result = CliRunner().invoke(app, ["digest", "--crm", "local", "--now", NOW, "--to", "me@"])
    assert result.exit_code == 2
    assert "--to 'me@' is not an email address" in result.output


def test_dry_run_after_apply_would_apply_nothing_and_says_who_applied_it(env: Path) -> None:
    """After `demo --apply`, a dry run of the same job would apply nothing again: each action names the run that did.

    Only the lead the apply created from activity is new work: routing it (and its task) waits for the next run.
    """
    code, out = invoke("demo", "--now", NOW)
    assert code == 0 and all(kind in out for kind in ("Would apply", "Already applied", "Would retry")), out
    out = invoke("demo", "--now", NOW, "--apply")[1]
    applied = json.loads(invoke("ledger", "show", out.split("warden ledger show ")[1].split()[0], "--json")[1])
    assert applied["dry_run"] is False and applied["job"] == "all"
    code, out = invoke("run", "all", "--now", NOW, "--json")
    dry = json.loads(out)
    assert code == 0 and dry["dry_run"] is True
    counts = dry["summary"]["actions_by_status"]
    created = [lead.id for lead in LocalCRM.from_url(f"sqlite:///{env / 'crm.db'}").iter_changed(ObjectType.LEAD, None)
               if isinstance(lead, Lead) and lead.email == NEW_PERSON[1]]
    fresh = [a for a in dry["actions"] if a["status"] == "would_apply"]
    assert {a["record_id"] for a in fresh} == set(created) and len(fresh) == 2, fresh
    assert all(a["key"].startswith("route-new-leads:") for a in fresh)
    assert counts["already_applied"] > 0, counts
    done = [a for a in dry["actions"] if a["status"] != "would_apply"]
    assert {(a["status"], a["applied_by"]) for a in done} == {("already_applied", applied["run_id"])}
    assert all(a["applied_at"] for a in done)
    code, shown = invoke("ledger", "show", dry["run_id"], "--json")
    assert json.loads(shown)["actions"] == dry["actions"]
    code, out = invoke("demo", "--now", NOW)
    assert f"2 would apply, {counts['already_applied']} already applied (" in out, out
    assert f"{counts['already_applied']} by run {applied['run_id']})" in out
