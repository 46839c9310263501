"""`warden revert RUN_ID`: a run's changes taken back where nobody changed them since, once, on any CRM."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from connectors.local import LocalCRM
from demo.activity import NEW_PERSON
from domain.connector import RecordUpdate
from domain.record_values import field_values
from domain.records import ObjectType
from jobs.cli import app

NOW = "2026-11-20T15:00:00Z"
DERIVED = {"stage_changed_at", "status_changed_at", "completed_at"}
"""Stamps the CRM itself keeps when a stage or status changes: no action sets them, revert cannot either."""


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout


def crm_state(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """Every live record of the demo CRM, its fields as a user sees them."""
    crm = LocalCRM(path)
    try:
        return {(obj.value, r.id): {k: v for k, v in field_values(r).items() if k not in DERIVED}
                for obj in (ObjectType.LEAD, ObjectType.OPPORTUNITY, ObjectType.ACCOUNT, ObjectType.TASK)
                for r in crm.iter_changed(obj, None) if not r.deleted}
    finally:
        crm.close()


def applied_run(env: Path) -> dict[str, Any]:
    code, out = invoke("demo", "--now", NOW, "--apply")
    assert code == 0, out
    assert "Take this run back: `warden revert " in out
    run_id = out.split("warden ledger show ")[1].split()[0]
    return json.loads(invoke("ledger", "show", run_id, "--json")[1])


def test_revert_of_run_all_takes_the_demo_back_except_what_a_user_changed_since(env: Path) -> None:
    """Every changed field and created task is taken back; a field a user changed after the run is listed, kept.

    The lead the run created from activity stays (sales may be working it), listed with why.
    """
    invoke("demo", "--now", NOW)
    before = crm_state(env / "crm.db")
    run = applied_run(env)
    after = crm_state(env / "crm.db")
    created = {k for k in after if k not in before}
    changed = {k for k in before if before[k] != after.get(k)}
    [made] = [k for k in created if k[0] == "lead"]
    assert created and all(k[0] == "task" for k in created - {made}) and changed
    edited = next(a for a in run["actions"] if a["kind"] == "reassign" and a["object"] == "opportunity")
    crm = LocalCRM(env / "crm.db")
    owners = {state[("opportunity", edited["record_id"])]["owner_id"] for state in (before, after)}
    other = next(o.id for o in crm.owners() if o.id not in owners and not o.is_queue and o.active)
    crm.update([RecordUpdate("a user", ObjectType.OPPORTUNITY, edited["record_id"], {"owner_id": other})])
    crm.close()
    edited_state = crm_state(env / "crm.db")

    code, out = invoke("revert", run["run_id"])
    assert code == 0, out
    assert "DRY RUN" in out and f"left alone opportunity {edited['record_id']}: reassign" in out, out
    assert "owner_id: changed since the run" in out
    assert crm_state(env / "crm.db") == edited_state

    code, out = invoke("revert", run["run_id"], "--apply", "--json")
    assert code == 0, out
    done = json.loads(out)
    assert done["failed"] == 0 and done["applied"] == len(done["actions"]) > 0
    left = {(s["object"], s["record_id"]): s["reason"] for s in done["left_alone"]}
    deactivated = {k for k, why in left.items() if "is deactivated and the CRM refuses them" in why}
    unowned = {k for k, why in left.items() if "it had no owner before the run" in why}
    assert set(left) == {("opportunity", edited["record_id"]), *deactivated, *unowned, (made[0], NEW_PERSON[1])}
    assert f"a lead created from activity ({made[1]})" in left[(made[0], NEW_PERSON[1])]
    reverted = crm_state(env / "crm.db")
    assert set(reverted) == {*before, made}  # every task the run created is gone
    differs = {k for k in before if reverted[k] != before[k]}
    assert differs == {("opportunity", edited["record_id"]), *deactivated, *unowned}
    assert all(before[k]["owner_id"] != reverted[k]["owner_id"] for k in deactivated)
    assert reverted[("opportunity", edited["record_id"])]["owner_id"] == other
    assert {k: v for k, v in reverted[("opportunity", edited["record_id"])].items() if k != "owner_id"} == {
        k: v for k, v in before[("opportunity", edited["record_id"])].items() if k != "owner_id"}

    code, out = invoke("revert", run["run_id"], "--apply", "--json")
    again = json.loads(out)
    assert code == 0 and again["actions"] == [] and again["applied"] == 0
    assert len(again["already_reverted"]) == done["applied"]
    assert crm_state(env / "crm.db") == reverted


def test_revert_input_problems_are_one_line_exit_2(env: Path) -> None:
    """An unknown run id, or a dry run's id, is named in one line with exit 2."""
    out = invoke("demo", "--now", NOW)[1]
    dry_run = out.split("warden ledger show ")[1].split()[0]
    result = CliRunner().invoke(app, ["revert", "no-such-run"])
    assert result.exit_code == 2 and "no run 'no-such-run'" in result.output
    result = CliRunner().invoke(app, ["revert", dry_run])
    assert result.exit_code == 2 and "was a dry run" in result.output
