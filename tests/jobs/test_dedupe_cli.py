"""`warden dedupe plan|apply|undo` on the embedded CRM, as an admin runs them."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from config.settings import PACKAGED_POLICY
from connectors.local import LocalCRM
from dedupe.plan_source import PlanSource
from domain.connector import RecordUpdate
from domain.records import ObjectType
from jobs.cli import app
from tests.dedupe.merge_support import crm_state, seeded_crm


class KilledProcess(BaseException):
    """Stands for SIGKILL: nothing after it runs, no handler catches it."""


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WARDEN_DATABASE_URL", f"sqlite:///{tmp_path / 'warden.db'}")
    monkeypatch.setenv("WARDEN_LOCAL_CRM_URL", f"sqlite:///{tmp_path / 'crm.db'}")
    monkeypatch.setenv("WARDEN_POLICY", str(PACKAGED_POLICY))
    monkeypatch.setenv("WARDEN_CRM", "local")
    monkeypatch.setenv("COLUMNS", "200")
    seeded_crm(tmp_path / "crm.db").close()
    return tmp_path


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout + result.stderr


def invoke_json(*args: str) -> tuple[int, Any, str]:
    """Exit code, the JSON document on stdout (nothing else may be there), and stderr (logs, progress)."""
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, json.loads(result.stdout), result.stderr


def approve(path: Path, cluster_id: str) -> None:
    with path.open(newline="") as source:
        rows = list(csv.DictReader(source))
    for row in rows:
        row["approve"] = "yes" if row["cluster_id"] == cluster_id else row["approve"]
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_plan_review_apply_undo_from_the_command_line(env: Path) -> None:
    """The plan explains itself, apply is a dry run until --apply, and undo restores the CRM exactly."""
    code, out = invoke("dedupe", "plan", "--out", "plan.csv")
    assert code == 0, out
    assert "Acme Products, Incorporated" in out and "why: master acc-2: most open deals (2 vs 1)" in out
    acme = next(r["cluster_id"] for r in csv.DictReader((env / "plan.csv").open()) if r["record_id"] == "acc-2")
    approve(env / "plan.csv", acme)
    crm = LocalCRM(env / "crm.db")
    before = crm_state(crm)
    code, out = invoke("dedupe", "apply", "plan.csv")
    assert code == 0 and "DRY RUN: 1 approved clusters would merge" in out, out
    assert crm_state(crm) == before
    code, out = invoke("dedupe", "apply", "plan.csv", "--apply")
    assert code == 0 and "1 merged, 0 failed" in out, out
    run_id = out.split("Undo: warden dedupe undo ")[1].split()[0]
    assert crm_state(crm) != before
    code, out = invoke("dedupe", "undo", run_id, "--apply")
    assert code == 0 and "recorded in the ledger" in out, out
    assert crm_state(crm) == before


def test_undo_lists_fields_a_user_changed_since_the_merge_and_overwrites_only_when_told(env: Path) -> None:
    """Undo exits 1 naming the edited field and restores nothing; with --overwrite it restores the CRM exactly."""
    crm = LocalCRM(env / "crm.db")
    before = crm_state(crm)
    code, out = invoke("dedupe", "plan", "--out", "plan.csv")
    approve(env / "plan.csv", next(r["cluster_id"] for r in csv.DictReader((env / "plan.csv").open())
                                   if r["record_id"] == "acc-2"))  # fmt: skip
    code, out = invoke("dedupe", "apply", "plan.csv", "--apply")
    assert code == 0, out
    run_id = out.split("Undo: warden dedupe undo ")[1].split()[0]
    crm.update([RecordUpdate("a user", ObjectType.ACCOUNT, "acc-2", {"website": "acme.example"})])
    merged = crm_state(crm)

    code, out = invoke("dedupe", "undo", run_id, "--apply")
    assert code == 1 and "website: 'www.acmeproducts.com' after the merge, now 'acme.example'" in " ".join(out.split())
    assert "--overwrite" in out and crm_state(crm) == merged
    code, out = invoke("dedupe", "undo", run_id, "--apply", "--overwrite")
    assert code == 0 and "applied" in out, out
    assert crm_state(crm) == before


def test_plan_from_an_export_and_a_wrong_file_says_what_is_missing(env: Path) -> None:
    """--from-csv plans on a HubSpot export without any CRM; a contacts file is refused with its columns."""
    (env / "companies.csv").write_text("Record ID,Company name,Company Domain Name,City\n"
                                       "1,Acme Products,acme.com,Boston\n2,\"Acme Products, Inc.\",acme.com,Boston\n")
    code, out = invoke("dedupe", "plan", "--from-csv", "companies.csv", "--out", "plan.html")
    assert code == 0 and "1 clusters (1 auto, 0 review)" in out, out
    assert "Acme Products, Inc." in (env / "plan.html").read_text()
    (env / "contacts.csv").write_text("First Name,Last Name\nAnn,Lee\n")
    code, out = invoke("dedupe", "plan", "--from-csv", "contacts.csv")
    assert code == 2 and "Company name" in out


def test_an_undone_merge_is_planned_and_applied_again_then_undone_again(env: Path) -> None:
    """plan -> apply -> undo -> plan -> apply merges the cluster again; the second undo restores exactly."""
    crm = LocalCRM(env / "crm.db")
    before = crm_state(crm)
    for _ in range(2):
        code, out = invoke("dedupe", "plan", "--out", "plan.csv")
        assert code == 0, out
        approve(env / "plan.csv", next(r["cluster_id"] for r in csv.DictReader((env / "plan.csv").open())
                                       if r["record_id"] == "acc-2"))
        code, out = invoke("dedupe", "apply", "plan.csv", "--apply")
        assert code == 0 and "1 merged, 0 failed, 0 already merged" in out, out
        assert crm_state(crm) != before
        code, out = invoke("dedupe", "undo", out.split("Undo: warden dedupe undo ")[1].split()[0], "--apply")
        assert code == 0 and "applied" in out, out
        assert crm_state(crm) == before


def test_a_merge_made_just_before_apply_was_killed_is_recorded_by_the_next_apply(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CRM merged, then the process died before the ledger knew: the next apply records it, and undo restores."""
    crm = LocalCRM(env / "crm.db")
    before = crm_state(crm)
    code, out = invoke("dedupe", "plan", "--out", "plan.csv")
    assert code == 0, out
    approve(env / "plan.csv", next(r["cluster_id"] for r in csv.DictReader((env / "plan.csv").open())
                                   if r["record_id"] == "acc-2"))  # fmt: skip
    merge = LocalCRM.merge

    def merge_then_die(self: LocalCRM, *args: Any) -> Any:
        merge(self, *args)
        raise KilledProcess

    monkeypatch.setattr(LocalCRM, "merge", merge_then_die)
    with pytest.raises(KilledProcess):
        CliRunner().invoke(app, ["dedupe", "apply", "plan.csv", "--apply"], catch_exceptions=False)
    monkeypatch.setattr(LocalCRM, "merge", merge)
    assert crm_state(crm) != before

    code, out = invoke("dedupe", "apply", "plan.csv", "--apply")
    assert code == 0 and "0 merged, 0 failed, 1 already merged" in out, out
    assert "Settled 1 interrupted run(s) from the CRM: 1 change(s) it had already made" in out, out
    interrupted = out.split("to take back its merges: warden dedupe undo ")[1].split()[0]
    code, out = invoke("dedupe", "undo", interrupted, "--apply")
    assert code == 0 and "recorded in the ledger" in out, out
    assert crm_state(crm) == before


def test_a_damaged_plan_is_one_line_naming_row_and_column_and_exit_2(env: Path) -> None:
    """A plan whose tier an admin mistyped is refused with the file, row and column, no traceback."""
    invoke("dedupe", "plan", "--out", "plan.csv")
    text = (env / "plan.csv").read_text()
    (env / "plan.csv").write_text(text.replace(",review,", ",reveiw,", 1))
    code, out = invoke("dedupe", "apply", "plan.csv")
    assert code == 2, out
    assert "column tier: 'reveiw' is not auto or review" in out and ", row " in out
    assert "Traceback" not in out and len(out.strip().splitlines()) == 1


def test_apply_and_undo_print_exactly_the_merges_made_as_json(env: Path) -> None:
    """A record left out with approve=no is neither merged nor printed; --json lists the merges made and undone."""
    invoke("dedupe", "plan", "--out", "plan.csv")
    rows = list(csv.DictReader((env / "plan.csv").open()))
    acme = next(r["cluster_id"] for r in rows if r["record_id"] == "acc-2")
    members = [r["record_id"] for r in rows if r["cluster_id"] == acme]
    left_out = next(r["record_id"] for r in rows if r["cluster_id"] == acme and not r["master"])
    for row in rows:
        row["approve"] = ("no" if row["record_id"] == left_out else "yes") if row["cluster_id"] == acme else ""
    with (env / "plan.csv").open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    code, applied, logs = invoke_json("dedupe", "apply", "plan.csv", "--apply", "--json")
    assert code == 0, logs
    (merge,) = applied["merges"]
    assert merge["status"] == "applied" and left_out not in merge["loser_ids"]
    assert sorted([merge["master_id"], *merge["loser_ids"], left_out]) == sorted(members)
    code, undone_run, logs = invoke_json("dedupe", "undo", applied["run_id"], "--apply", "--json")
    (undone,) = undone_run["undone"]
    assert code == 0 and undone["loser_ids"] == merge["loser_ids"], logs


def test_a_plan_applied_to_another_crm_is_refused_in_one_line(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plan made on the embedded CRM names its records; applying it to HubSpot is refused, exit 2."""
    invoke("dedupe", "plan", "--out", "plan.csv")
    approve(env / "plan.csv", next(r["cluster_id"] for r in csv.DictReader((env / "plan.csv").open())))
    monkeypatch.setenv("HUBSPOT_PORTAL_ID", "4411")
    code, out = invoke("dedupe", "apply", "plan.csv", "--apply", "--crm", "hubspot")
    assert code == 2 and len(out.strip().splitlines()) == 1, out
    assert "it was planned on local, not on hubspot (4411): apply it there, or plan again on hubspot" in out


def test_a_plan_names_the_org_it_was_made_on() -> None:
    """Two Salesforce orgs are two CRMs; an org the settings do not name is judged by its kind only."""
    source = PlanSource("salesforce", org="acme.my.salesforce.com")
    assert source.mismatch("salesforce", "acme.my.salesforce.com") is None
    assert source.mismatch("salesforce", None) is None
    assert "planned on salesforce (acme.my.salesforce.com), not on salesforce (other.my.salesforce.com)" in str(
        source.mismatch("salesforce", "other.my.salesforce.com"))


def test_moving_the_master_and_leaving_a_record_out_recomputes_what_survives(env: Path) -> None:
    """The master the reviewer picked survives with values from the records still merging, and says why."""
    invoke("dedupe", "plan", "--out", "plan.csv")
    rows = list(csv.DictReader((env / "plan.csv").open()))
    acme = next(r["cluster_id"] for r in rows if r["record_id"] == "acc-2")
    for row in rows:
        if row["cluster_id"] == acme:
            row["master"] = "yes" if row["record_id"] == "acc-4" else ""
            row["approve"] = "no" if row["record_id"] == "acc-2" else "yes"
    with (env / "plan.csv").open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    code, dry_run, logs = invoke_json("dedupe", "apply", "plan.csv", "--json")
    assert code == 0, logs
    (merge,) = dry_run["merges"]
    assert (merge["master_id"], sorted(merge["loser_ids"])) == ("acc-4", ["acc-1", "acc-3"])
    assert "phone" not in merge["fields"] and "website" not in merge["fields"]  # acc-2's phone stays with acc-2
    assert "master acc-4: chosen by the reviewer" in merge["reason"]
    code, out = invoke("dedupe", "apply", "plan.csv", "--apply")
    crm = LocalCRM(env / "crm.db")
    survivors = crm.fetch(ObjectType.ACCOUNT, ["acc-2", "acc-4"])
    assert code == 0 and set(survivors) == {"acc-2", "acc-4"} and survivors["acc-4"].phone is None, out
