"""`warden dedupe plan --object contacts|leads`, then apply and undo, as an admin runs them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from config.settings import PACKAGED_POLICY
from connectors.local import LocalCRM
from tests.dedupe.merge_support import NOW, crm_state
from tests.dedupe.people_support import people
from tests.jobs.test_dedupe_cli import approve, invoke


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WARDEN_DATABASE_URL", f"sqlite:///{tmp_path / 'warden.db'}")
    monkeypatch.setenv("WARDEN_LOCAL_CRM_URL", f"sqlite:///{tmp_path / 'crm.db'}")
    monkeypatch.setenv("WARDEN_POLICY", str(PACKAGED_POLICY))
    monkeypatch.setenv("WARDEN_CRM", "local")
    monkeypatch.setenv("COLUMNS", "200")
    crm = LocalCRM(tmp_path / "crm.db", clock=lambda: NOW)
    crm.insert_records(people())
    crm.close()
    return tmp_path


def test_contacts_plan_apply_and_undo_from_the_command_line(env: Path) -> None:
    """The contacts plan names the people and why; its CSV says contact; apply merges them, undo restores all."""
    code, out = invoke("dedupe", "plan", "--object", "contacts", "--out", "contacts.csv")
    assert code == 0, out
    assert "3 contacts" in out and "Bob Smith" in out and "nickname" in out
    rows = list(csv.DictReader((env / "contacts.csv").open()))
    assert {r["object"] for r in rows} == {"contact"}
    approve(env / "contacts.csv", rows[0]["cluster_id"])
    crm = LocalCRM(env / "crm.db")
    before = crm_state(crm)
    code, out = invoke("dedupe", "apply", "contacts.csv", "--apply")
    assert code == 0 and "1 merged, 0 failed" in out, out
    assert crm_state(crm)["contact"]["con-1"]["deleted"]
    run_id = out.split("Undo: warden dedupe undo ")[1].split()[0]
    code, out = invoke("dedupe", "undo", run_id, "--apply")
    assert code == 0, out
    assert crm_state(crm) == before


def test_a_leads_plan_as_json_keeps_its_type_and_a_bad_object_is_one_line(env: Path) -> None:
    """--object leads plans leads (the JSON says lead); --object deals exits 2 naming the option."""
    code, out = invoke("dedupe", "plan", "--object", "leads", "--out", "leads.json")
    assert code == 0, out
    clusters = json.loads((env / "leads.json").read_text())["clusters"]
    assert [(c["object"], c["master_id"]) for c in clusters] == [("lead", "led-2")]
    code, out = invoke("dedupe", "plan", "--object", "deals")
    assert code == 2 and "deals" in out and "Traceback" not in out
    code, out = invoke("dedupe", "plan", "--object", "contacts", "--from-csv", "x.csv")
    assert code == 2 and "--from-csv" in out and "Traceback" not in out


def test_a_plan_whose_object_column_was_edited_to_nonsense_is_refused_in_one_line(env: Path) -> None:
    """object=deal in the CSV: apply exits 2 naming the file, cluster and value, and merges nothing."""
    invoke("dedupe", "plan", "--object", "contacts", "--out", "contacts.csv")
    rows = list(csv.DictReader((env / "contacts.csv").open()))
    for row in rows:
        row["object"], row["approve"] = "deal", "yes"
    with (env / "contacts.csv").open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    code, out = invoke("dedupe", "apply", "contacts.csv", "--apply")
    assert code == 2 and "column object: 'deal' is not account, contact or lead" in out and "Traceback" not in out
