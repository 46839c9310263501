"""Plan files (CSV review, JSON, HTML) and the CRMs' account exports."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from config.policy import Policy
from dedupe.exports import ExportError, read_account_export
from dedupe.plan import ClusterPlan, MergePlan, build_plan
from dedupe.plan_files import PlanFileError, read_plan, write_plan
from dedupe.score import Tier
from dedupe.survivor import AccountFacts
from domain.records import Account

CREATED = datetime(2024, 1, 1, tzinfo=UTC)

CLUSTER = ClusterPlan("c0001", Tier.REVIEW, 93.0, "a1", ("a2", "a3"), {"a1": "Acme", "a2": "Acme Inc", "a3": "ACME"},
                      {"website": "acme.com"}, "master a1: oldest. a1 and a2: Same name ...")


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as source:
        return list(csv.DictReader(source))


def rewrite(path: Path, approvals: dict[str, str]) -> None:
    table = rows(path)
    for row in table:
        row["approve"] = approvals.get(row["record_id"], row["approve"])
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)


def test_csv_has_one_row_per_record_with_reason_and_an_empty_approve_column(tmp_path: Path) -> None:
    """The admin sees cluster, record, name, master flag, score, tier and reason; approve starts empty."""
    path = tmp_path / "plan.csv"
    write_plan(MergePlan([CLUSTER]), path)
    table = rows(path)
    assert [(r["record_id"], r["master"], r["approve"]) for r in table] == [("a1", "yes", ""), ("a2", "", ""),
                                                                           ("a3", "", "")]
    assert table[0]["score"] == "93" and table[0]["tier"] == "review" and "oldest" in table[0]["reason"]


def test_admin_edits_approve_a_cluster_and_leave_one_record_out(tmp_path: Path) -> None:
    """yes on one row approves the cluster; no on a loser's row keeps that record out of the merge."""
    path = tmp_path / "plan.csv"
    write_plan(MergePlan([CLUSTER]), path)
    assert read_plan(path)[0].approved is False
    rewrite(path, {"a1": "Yes", "a3": "no"})
    (cluster,) = read_plan(path)
    assert cluster.approved and cluster.loser_ids == ("a2",) and cluster.fields == {"website": "acme.com"}


@pytest.mark.parametrize(("edit", "message"), [({"a1": "no"}, "master a1 says approve=no"),
                                               ({"a2": "maybe"}, "row 3, column approve: .maybe. is not yes")])
def test_unreadable_approvals_name_the_cluster_and_record(tmp_path: Path, edit: dict[str, str], message: str) -> None:
    """A refused master or an unknown answer is an error that says where it is."""
    path = tmp_path / "plan.csv"
    write_plan(MergePlan([CLUSTER]), path)
    rewrite(path, edit)
    with pytest.raises(PlanFileError, match=message):
        read_plan(path)


def test_json_round_trips_and_html_shows_reasons(tmp_path: Path) -> None:
    """JSON reads back the same clusters; the HTML report carries each reason, escaped."""
    cluster = replace(CLUSTER, reason="<b>why</b>", approved=True)
    write_plan(MergePlan([cluster]), tmp_path / "plan.json")
    write_plan(MergePlan([cluster]), tmp_path / "plan.html")
    assert read_plan(tmp_path / "plan.json") == [cluster]
    assert "&lt;b&gt;why&lt;/b&gt;" in (tmp_path / "plan.html").read_text()


SALESFORCE_EXPORT = """\
"Account ID","Account Name",Website,Phone,"Billing Street","Billing City","Billing Zip/Postal Code",Type,"Created Date"
"001xx00000A1","Acme Products","acmeproducts.com","617 555 0100","1 Main St","Boston","02110","Customer","1/15/2021"
"001xx00000A2","Acme Products, Inc.","www.acmeproducts.com","","1 Main St","Boston","02110","Prospect","3/2/2024"
"001xx00000A3","Bank of the West","bankofthewest.com","","","Boston","02110","Prospect","3/2/2024"
"""
HUBSPOT_EXPORT = """\
Record ID,Company name,Company Domain Name,Phone Number,City,Postal Code,Create Date
406260751575,Acme Products,acmeproducts.com,,Boston,02110,2021-01-15 10:00
406260751576,"Acme Products, Incorporated",acmeproducts.com,,Boston,02110,2024-03-02 09:30
"""


@pytest.mark.parametrize(("export", "first_id"), [(SALESFORCE_EXPORT, "001xx00000A1"),
                                                  (HUBSPOT_EXPORT, "406260751575")])
def test_exports_of_both_crms_plan_the_acme_merge(tmp_path: Path, export: str, first_id: str) -> None:
    """Each CRM's own export columns are read, and the oldest Acme record is proposed as master."""
    path = tmp_path / "export.csv"
    path.write_text("\ufeff" + export, encoding="utf-8")
    accounts = read_account_export(path).accounts
    assert accounts[0].id == first_id and accounts[0].billing_city == "Boston"
    plan = build_plan([AccountFacts(a) for a in accounts], Policy.model_validate({"dedupe": {"survivor": ["oldest"]}}))
    assert [c.master_id for c in plan.clusters] == [first_id]


def test_a_file_that_is_no_account_export_names_the_columns_it_needs(tmp_path: Path) -> None:
    """The error lists the columns each CRM's export would have."""
    path = tmp_path / "contacts.csv"
    path.write_text("First Name,Last Name\nAnn,Lee\n")
    with pytest.raises(ExportError, match="Record ID"):
        read_account_export(path)


def edit_cells(path: Path, edit: dict[tuple[int, str], str], drop: tuple[str, ...] = ()) -> None:
    """Set cells by (data row index, column) and drop whole columns, as a spreadsheet would save them."""
    table = rows(path)
    for (index, column), value in edit.items():
        table[index][column] = value
    columns = [c for c in table[0] if c not in drop]
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(table)


@pytest.mark.parametrize(("edit", "drop", "message"), [
    ({}, ("tier", "name"), r"plan.csv: missing column\(s\) name, tier"),
    ({(1, "tier"): "maybe"}, (), r"plan.csv, row 3, column tier: 'maybe' is not auto or review"),
    ({(0, "score"): "high"}, (), r"plan.csv, row 2, column score: 'high' is not a number from 0 to 100"),
    ({(0, "score"): "250"}, (), r"plan.csv, row 2, column score: '250' is not a number from 0 to 100"),
    ({(0, "set_fields"): '["website"]'}, (), r"plan.csv, row 2, column set_fields: not a JSON object"),
    ({(0, "set_fields"): "{oops"}, (), r"plan.csv, row 2, column set_fields: not JSON"),
    ({(2, "record_id"): ""}, (), r"plan.csv, row 4, column record_id: empty"),
    ({(2, "record_id"): "a2"}, (), r"plan.csv, row 4, column record_id: 'a2' is already on row 3"),
])  # fmt: skip
def test_a_damaged_plan_csv_names_file_row_and_column(
    tmp_path: Path, edit: dict[tuple[int, str], str], drop: tuple[str, ...], message: str
) -> None:
    """Every schema problem of an edited plan is one error naming the file, the row and the column."""
    path = tmp_path / "plan.csv"
    write_plan(MergePlan([CLUSTER]), path)
    edit_cells(path, edit, drop)
    with pytest.raises(PlanFileError, match=message):
        read_plan(path)


@pytest.mark.parametrize(("clusters", "message"), [
    ([{"cluster_id": "c1"}], r"plan.json: cluster 1 \(c1\): missing tier"),
    ([{**{"cluster_id": "c1", "tier": "x"}}], r"plan.json: cluster 1 \(c1\), tier: 'x' is not auto or review"),
    ("nope", r"plan.json: 'clusters' is not a list"),
])  # fmt: skip
def test_a_damaged_plan_json_names_the_cluster_and_field(tmp_path: Path, clusters: object, message: str) -> None:
    """A JSON plan is checked field by field too."""
    path = tmp_path / "plan.json"
    path.write_text(json.dumps({"clusters": clusters}))
    with pytest.raises(PlanFileError, match=message):
        read_plan(path)


def test_cells_a_spreadsheet_would_run_as_formulas_are_quoted_and_read_back_unquoted(tmp_path: Path) -> None:
    """A name starting with = + - @ tab or CR is written with a leading ' and read back as it was."""
    names = {"a1": "=HYPERLINK(\"http://x\")", "a2": "+1 Acme", "a3": "@Acme", "a4": "-Acme", "a5": "\tAcme",
             "a6": "\rAcme", "a7": "'Twas Acme"}  # fmt: skip
    cluster = replace(CLUSTER, names=names, loser_ids=tuple(names)[1:], approved=True)
    path = tmp_path / "plan.csv"
    write_plan(MergePlan([cluster]), path)
    written = {r["record_id"]: r["name"] for r in rows(path)}
    assert all(written[i].startswith("'") for i in ("a1", "a2", "a3", "a4", "a5", "a6"))
    assert written["a7"] == "'Twas Acme"
    assert read_plan(path)[0].names == names


def big_plan(size: int) -> MergePlan:
    spellings = ["ACME PRODUCTS N.V.", "Acme Products NV", "Acme Products, N.V."]
    facts = [AccountFacts(Account(id=f"a{i:04d}", name=spellings[i % 3], owner_id="u1", created_at=CREATED,
                                  updated_at=CREATED)) for i in range(size)]
    facts.append(AccountFacts(Account(id="typo", name="Acme Prodcts", owner_id="u1", created_at=CREATED,
                                      updated_at=CREATED)))
    return build_plan(facts, Policy())


def test_a_thousand_record_cluster_reads_back_with_default_csv_limits(tmp_path: Path) -> None:
    """The reason is a summary with counts; each record's row says how it joined; every cell stays small."""
    plan = big_plan(1000)
    (cluster,) = plan.clusters
    assert len(cluster.loser_ids) == 1000
    assert "1001 accounts: 999 joined by the same name, 1 by a similar name" in cluster.reason
    path = tmp_path / "plan.csv"
    write_plan(plan, path)
    table = rows(path)  # the csv module's default field limit (131,072) would refuse a longer cell
    assert max(len(cell) for row in table for cell in row.values()) < 32_767
    joined = {r["record_id"]: r["joined"] for r in table}
    assert joined["typo"].startswith("similar name to ")
    assert sum(line.startswith("same name as ") for line in joined.values()) == 999
    assert read_plan(path)[0].joined == cluster.joined


def test_review_clusters_come_largest_first() -> None:
    """The biggest mess is at the top of the review."""
    names = ["Zentrix Analytica"] * 2 + ["Northwind Traders"] * 4 + ["Quorvel Holdings"] * 3
    facts = [AccountFacts(Account(id=f"a{i}", name=n, owner_id="u1", created_at=CREATED, updated_at=CREATED))
             for i, n in enumerate(names)]
    assert [len(c.names) for c in build_plan(facts, Policy()).clusters] == [4, 3, 2]
