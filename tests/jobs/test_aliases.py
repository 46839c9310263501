"""Stage aliases: a CRM's own stage and status names read as the policy's, and written back as the CRM's."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from config.policy_file import parse_policy
from connectors.local import LocalCRM
from domain.connector import RecordUpdate
from domain.records import Lead, ObjectType, Opportunity, StageChange
from jobs.aliases import AliasedConnector, with_aliases

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = """\
stages:
  lead: [{name: New}, {name: Qualified}]
  opportunity: [{name: Discovery}, {name: Negotiation}, {name: Closed Lost, closed: true}]
  aliases:
    local: {"Decision Maker Bought-In": Negotiation, "Contract Sent": Negotiation, "SQL": Qualified}
    hubspot: {"Appointment Scheduled": Discovery}
"""


def crm(tmp_path: Path) -> LocalCRM:
    local = LocalCRM(tmp_path / "crm.db", clock=lambda: T)
    local.insert_records([
        Opportunity("o1", "Deal", None, None, "Decision Maker Bought-In", T, T),
        Opportunity("o2", "Deal 2", None, None, "Discovery", T, T),
        Lead("l1", "Lee", "Co", None, "sql", T, T)])
    return local


def test_records_read_under_the_policys_names(tmp_path: Path) -> None:
    """A CRM stage with an alias reads as the policy's stage, in any case; others pass unchanged."""
    aliased = with_aliases(crm(tmp_path), parse_policy(POLICY))
    assert isinstance(aliased, AliasedConnector)
    deals = {r.id: r.stage for r in aliased.iter_changed(ObjectType.OPPORTUNITY, None) if isinstance(r, Opportunity)}
    leads = [r.status for r in aliased.iter_changed(ObjectType.LEAD, None) if isinstance(r, Lead)]
    assert deals == {"o1": "Negotiation", "o2": "Discovery"} and leads == ["Qualified"]


def test_a_rules_write_goes_back_under_the_crms_first_listed_name(tmp_path: Path) -> None:
    """Moving a deal to the policy's 'Negotiation' writes the CRM's 'Decision Maker Bought-In'."""
    local = crm(tmp_path)
    aliased = with_aliases(local, parse_policy(POLICY))
    [result] = aliased.update([RecordUpdate("k", ObjectType.OPPORTUNITY, "o2", {"stage": "Negotiation"})])
    assert result.ok
    stages = {r.id: r for r in local.iter_changed(ObjectType.OPPORTUNITY, None) if isinstance(r, Opportunity)}
    assert stages["o2"].stage == "Decision Maker Bought-In"


def test_a_crm_without_aliases_is_left_as_it_is(tmp_path: Path) -> None:
    """Aliases are per CRM: another CRM's, or none, change nothing."""
    local = crm(tmp_path)
    assert with_aliases(local, parse_policy(POLICY.split("  aliases:")[0])) is local


def test_the_crms_stage_history_reads_under_the_policys_names(tmp_path: Path) -> None:
    """The CRM's own history (here the embedded CRM's) comes through the aliases like its records do."""
    local = crm(tmp_path)
    local.insert_history([StageChange(ObjectType.OPPORTUNITY, "o1", T, "Contract Sent")])
    aliased = with_aliases(local, parse_policy(POLICY))
    assert [c.stage for c in aliased.iter_stage_history(ObjectType.OPPORTUNITY, None)] == ["Negotiation"]
