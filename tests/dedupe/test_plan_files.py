"""Plan files (CSV review, JSON, HTML) and the CRMs' account exports."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import pytest

from config.policy import Policy
from dedupe.exports import ExportError, read_account_export
from dedupe.plan import ClusterPlan, MergePlan, build_plan
from dedupe.plan_files import PlanFileError, read_plan, write_plan
from dedupe.score import Tier
from dedupe.survivor import AccountFacts

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
                                               ({"a2": "maybe"}, "approve='maybe'")])
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
