"""Plan -> review -> apply -> undo on the embedded CRM, through the ledger."""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from config.policy import Policy
from connectors.local import LocalCRM
from dedupe.plan import ClusterPlan, MergePlan, build_plan, facts_from_org
from dedupe.plan_files import read_plan, write_plan
from demo.org import seed_demo
from domain.connector import MergeResult, RecordUpdate, Snapshot
from domain.errors import ConnectorError
from domain.plan import ActionStatus
from domain.records import Account, Contact, ObjectType
from jobs.apply.merges import apply_plan
from jobs.apply.undo import NothingToUndo, undo
from tests.dedupe.merge_support import NOW, crm_state, ledger_sessions, seeded_crm


class CrmOrg:
    """The CRM read directly as the rules' ``OrgData`` (records only), instead of through a mirror."""

    def __init__(self, crm: LocalCRM) -> None:
        self.crm = crm

    def records(self, object_type: ObjectType) -> list[object]:
        return [r for r in self.crm.iter_changed(object_type, None) if not getattr(r, "deleted", False)]


def plan_for(crm: LocalCRM, policy: Policy | None = None) -> MergePlan:
    return build_plan(facts_from_org(CrmOrg(crm)), policy or Policy())  # type: ignore[arg-type]


def approve_all_in_csv(path: Path) -> None:
    """What the admin does in a spreadsheet: write yes in every approve cell."""
    with path.open(newline="") as source:
        rows = list(csv.DictReader(source))
    for row in rows:
        row["approve"] = "yes"
    with path.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def live_accounts(crm: LocalCRM) -> dict[str, Account]:
    return {a.id: a for a in crm.iter_changed(ObjectType.ACCOUNT, None) if isinstance(a, Account) and not a.deleted}


@pytest.fixture
def crm(tmp_path: Path) -> LocalCRM:
    return seeded_crm(tmp_path / "crm.db")


@pytest.fixture
def sessions(tmp_path: Path) -> sessionmaker[Session]:
    return ledger_sessions(tmp_path / "warden.db")


def reviewed(crm: LocalCRM, tmp_path: Path) -> list[ClusterPlan]:
    plan_file = tmp_path / "plan.csv"
    write_plan(plan_for(crm), plan_file)
    approve_all_in_csv(plan_file)
    return [c for c in read_plan(plan_file) if c.approved]


def test_reviewed_plan_merges_then_undo_restores_every_field_and_child(
    crm: LocalCRM, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """Approved clusters merge (children move, master takes the newest website), and undo puts all back."""
    before = crm_state(crm)
    run = apply_plan(reviewed(crm, tmp_path), crm, sessions, "local", NOW)
    assert [o.status for o in run.outcomes] == [ActionStatus.APPLIED, ActionStatus.APPLIED]
    accounts = live_accounts(crm)
    assert sorted(accounts) == ["acc-2", "acc-6", "acc-7", "acc-8"]
    assert accounts["acc-2"].website == "www.acmeproducts.com"
    contacts = {c.id: c for c in crm.iter_changed(ObjectType.CONTACT, None) if isinstance(c, Contact)}
    assert contacts["con-2"].account_id == "acc-2"
    undone = undo(run.run_id, crm, sessions, NOW, apply=True)
    assert [o.status for o in undone.outcomes] == [ActionStatus.APPLIED, ActionStatus.APPLIED]
    assert crm_state(crm) == before


def test_undo_refuses_to_overwrite_what_a_user_changed_after_the_merge_until_told_to(
    crm: LocalCRM, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """A phone edited after the merge is named and kept; the other merge is undone; --overwrite restores the rest."""
    before = crm_state(crm)
    run = apply_plan(reviewed(crm, tmp_path), crm, sessions, "local", NOW)
    crm.update([RecordUpdate("a user", ObjectType.ACCOUNT, "acc-2", {"phone": "+1 617 555 0199"})])

    dry = undo(run.run_id, crm, sessions, NOW, apply=False)
    refused = undo(run.run_id, crm, sessions, NOW, apply=True)

    acme = next(o for o in refused.outcomes if o.merge.master_id == "acc-2")
    assert acme.status is ActionStatus.FAILED
    assert acme.changed == ("phone: '+1 617 555 0100' after the merge, now '+1 617 555 0199'",)
    assert acme.error is not None and "--overwrite" in acme.error
    assert [o.error for o in dry.outcomes if o.merge.master_id == "acc-2"] == [acme.error]
    assert live_accounts(crm)["acc-2"].phone == "+1 617 555 0199" and "acc-1" not in live_accounts(crm)
    assert [o.status for o in refused.outcomes if o.merge.master_id != "acc-2"] == [ActionStatus.APPLIED]

    forced = undo(run.run_id, crm, sessions, NOW, apply=True, overwrite=True)
    assert [o.status for o in forced.outcomes] == [ActionStatus.APPLIED, ActionStatus.SKIPPED]
    assert crm_state(crm) == before


def test_reapplying_the_same_plan_merges_nothing_twice(
    crm: LocalCRM, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """A second apply of the same approved plan finds every merge key applied and skips it."""
    clusters = reviewed(crm, tmp_path)
    apply_plan(clusters, crm, sessions, "local", NOW)
    merge_calls = crm.usage.calls.get("merge", 0)
    again = apply_plan(clusters, crm, sessions, "local", NOW)
    assert {o.status for o in again.outcomes} == {ActionStatus.SKIPPED}
    assert crm.usage.calls.get("merge", 0) == merge_calls


def test_undo_twice_restores_once_and_by_merge_key(
    crm: LocalCRM, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """Undoing one merge by its key restores only that cluster; repeating the undo changes nothing."""
    run = apply_plan(reviewed(crm, tmp_path), crm, sessions, "local", NOW)
    globex = next(o for o in run.outcomes if o.cluster.master_id == "acc-6")
    first = undo(globex.key, crm, sessions, NOW, apply=True)
    second = undo(globex.key, crm, sessions, NOW, apply=True)
    assert [o.status for o in first.outcomes] == [ActionStatus.APPLIED]
    assert [o.status for o in second.outcomes] == [ActionStatus.SKIPPED]
    assert sorted(live_accounts(crm)) == ["acc-2", "acc-5", "acc-6", "acc-7", "acc-8"]


def test_dry_run_undo_changes_nothing_and_unknown_ids_are_named(
    crm: LocalCRM, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """Without apply, undo lists the records it would restore; an unknown id is an error naming it."""
    run = apply_plan(reviewed(crm, tmp_path), crm, sessions, "local", NOW)
    merged = crm_state(crm)
    dry = undo(run.run_id, crm, sessions, NOW, apply=False)
    assert dry.run_id is None and "acc-1" in dry.outcomes[-1].restored + dry.outcomes[0].restored
    assert crm_state(crm) == merged
    with pytest.raises(NothingToUndo, match="nope"):
        undo("nope", crm, sessions, NOW, apply=True)


class SyncedPortal(LocalCRM):
    """Refuses to merge into acc-2, as a HubSpot portal with the Salesforce sync on refuses company merges."""

    def merge(self, object_type: ObjectType, master_id: str, loser_ids: Sequence[str]) -> MergeResult:
        if master_id == "acc-2":
            return MergeResult(master_id, (), ok=False, error="merges are disabled while the Salesforce sync is on")
        return super().merge(object_type, master_id, loser_ids)


def test_a_refused_cluster_fails_alone_and_its_master_is_put_back(
    tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    """The refused Acme merge fails with the CRM's reason, its master's website is restored, Globex merges."""
    crm = seeded_crm(tmp_path / "crm.db", SyncedPortal)
    acme_before = crm_state(crm)["account"]["acc-2"]
    run = apply_plan(reviewed(crm, tmp_path), crm, sessions, "local", NOW)
    status = {o.cluster.master_id: (o.status, o.error) for o in run.outcomes}
    assert status["acc-6"] == (ActionStatus.APPLIED, None)
    assert status["acc-2"][0] is ActionStatus.FAILED and "Salesforce sync" in (status["acc-2"][1] or "")
    assert crm_state(crm)["account"]["acc-2"] == acme_before
    assert "acc-5" not in live_accounts(crm)


def test_unreviewed_review_clusters_are_not_approved_and_auto_ones_only_when_policy_allows() -> None:
    """Review rows start unapproved; auto rows start approved only with dedupe.auto_merge on."""
    crm = seeded_crm(Path(":memory:"))
    strict = plan_for(crm)
    trusting = plan_for(crm, Policy.model_validate({"dedupe": {"auto_merge": True}}))
    assert strict.approved() == []
    assert [(c.tier.value, c.master_id) for c in trusting.approved()] == [("auto", "acc-6")]


def test_demo_org_plan_applies_and_undoes_exactly(tmp_path: Path, sessions: sessionmaker[Session]) -> None:
    """On the seeded demo org every proposed cluster merges and undo leaves the CRM as it was."""
    crm = LocalCRM(tmp_path / "demo.db", clock=lambda: NOW)
    seed_demo(crm, NOW)
    before = crm_state(crm)
    clusters = [c for c in plan_for(crm).clusters if c.loser_ids]
    assert clusters, "the demo org holds duplicates"
    run = apply_plan(clusters, crm, sessions, "local", NOW)
    assert {o.status for o in run.outcomes} == {ActionStatus.APPLIED}
    assert crm_state(crm) != before
    undo(run.run_id, crm, sessions, NOW, apply=True)
    assert crm_state(crm) == before


def test_an_undone_merge_can_be_planned_applied_and_undone_again(
    crm: LocalCRM, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """plan -> apply -> undo -> plan -> apply merges again under a new key, and the second undo restores exactly."""
    before = crm_state(crm)
    first = apply_plan(reviewed(crm, tmp_path), crm, sessions, "local", NOW)
    undo(first.run_id, crm, sessions, NOW, apply=True)
    assert crm_state(crm) == before
    second = apply_plan(reviewed(crm, tmp_path), crm, sessions, "local", NOW)
    assert [o.status for o in second.outcomes] == [ActionStatus.APPLIED, ActionStatus.APPLIED]
    assert {o.key for o in second.outcomes} == {f"{o.key}#1" for o in first.outcomes}
    assert sorted(live_accounts(crm)) == ["acc-2", "acc-6", "acc-7", "acc-8"]
    again = undo(second.run_id, crm, sessions, NOW, apply=True)
    assert [o.status for o in again.outcomes] == [ActionStatus.APPLIED, ActionStatus.APPLIED]
    assert crm_state(crm) == before


def test_a_repeated_apply_of_a_merge_merged_again_is_skipped(
    crm: LocalCRM, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """After merge, undo and merge again, applying the same approved clusters once more merges nothing."""
    clusters = reviewed(crm, tmp_path)
    undo(apply_plan(clusters, crm, sessions, "local", NOW).run_id, crm, sessions, NOW, apply=True)
    apply_plan(clusters, crm, sessions, "local", NOW)
    merged, merge_calls = crm_state(crm), crm.usage.calls.get("merge", 0)
    repeated = apply_plan(clusters, crm, sessions, "local", NOW)
    assert {o.status for o in repeated.outcomes} == {ActionStatus.SKIPPED}
    assert crm.usage.calls.get("merge", 0) == merge_calls and crm_state(crm) == merged


class FailingRestore(LocalCRM):
    """A CRM whose restore call fails, or dies like a killed process, so an undo never finishes."""

    failure: BaseException = ConnectorError("the CRM went away mid-restore")

    def restore(self, snapshots: Sequence[Snapshot]) -> None:
        raise self.failure


@pytest.mark.parametrize("failure", [ConnectorError("the CRM went away"), KeyboardInterrupt()],
                         ids=["restore refused", "undo killed"])
def test_an_unfinished_undo_never_lets_the_merge_apply_twice(
    tmp_path: Path, sessions: sessionmaker[Session], failure: BaseException
) -> None:
    """While the undo has not finished, the merge keeps its key: applying the cluster again is skipped."""
    crm = seeded_crm(tmp_path / "crm.db", FailingRestore)
    assert isinstance(crm, FailingRestore)
    clusters = reviewed(crm, tmp_path)
    run = apply_plan(clusters, crm, sessions, "local", NOW)
    crm.failure = failure
    with contextlib.suppress(KeyboardInterrupt):
        undo(run.run_id, crm, sessions, NOW, apply=True)
    merge_calls = crm.usage.calls.get("merge", 0)
    retried = apply_plan(clusters, crm, sessions, "local", NOW)
    assert {o.status for o in retried.outcomes} == {ActionStatus.SKIPPED}
    assert crm.usage.calls.get("merge", 0) == merge_calls
