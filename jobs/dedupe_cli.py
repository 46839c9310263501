"""``warden dedupe plan|apply|undo``: the admin's merge workflow. Dry run unless given --apply."""

from __future__ import annotations

import codecs
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from config.policy import Policy
from config.settings import Settings
from dedupe.exports import ExportError, describe_skipped, read_account_export
from dedupe.people_plan import build_people_plan, people_facts
from dedupe.plan import ClusterPlan, MergePlan, build_plan, facts_from_org
from dedupe.plan_files import PlanFileError, read_plan, read_plan_source, write_plan
from dedupe.revise import reviewed_facts, revise
from dedupe.survivor import AccountFacts
from domain.connector import Connector
from domain.errors import ConnectorError
from domain.invocation import warden_command
from domain.plan import ActionStatus
from domain.progress import Progress
from domain.records import Account, ObjectType
from jobs import log_setup as warden_logging
from jobs.apply.merges import JOB as MERGE_JOB
from jobs.apply.merges import MergeRun, apply_plan
from jobs.apply.undo import NothingToUndo, merges_to_undo, undo
from jobs.connections import UnknownCrm, open_connector, record_links
from jobs.dedupe_source import crm_identity, plan_source
from jobs.inputs import crm_or_exit, fail, ledger_failed, open_store, policy_or_exit, settings_or_exit
from jobs.progress import progress_on
from jobs.recovery import settle_interrupted
from jobs.usage_errors import OneLineUsageErrors
from store import mirror
from store.locks import JobLocks, LockError, locks_for
from store.merge_history import applied_merges

app = typer.Typer(help="Merge duplicate accounts, contacts or leads: plan, review the plan, apply it, undo it.",
                  no_args_is_help=True, cls=OneLineUsageErrors)
console = Console()
EXCERPT = 10

CrmOption = Annotated[str | None, typer.Option(help="local, salesforce or hubspot (default WARDEN_CRM).")]
PolicyOption = Annotated[Path | None, typer.Option(help="Policy file (default WARDEN_POLICY).")]
ApplyOption = Annotated[bool, typer.Option("--apply", help="Change the CRM. Without it, only print what would change.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the merges made (dry run: to make) as JSON.")]
OBJECTS = {"accounts": ObjectType.ACCOUNT, "contacts": ObjectType.CONTACT, "leads": ObjectType.LEAD}


@contextmanager
def _connector(settings: Settings, crm: str) -> Iterator[Connector]:
    try:
        yield open_connector(settings, crm)
    except (UnknownCrm, ConnectorError) as exc:
        raise fail(str(exc)) from None


def _encoding_or_exit(encoding: str | None) -> str | None:
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise fail(f"--encoding: {encoding!r} is not an encoding Python knows: e.g. utf-8, cp1252, "
                       "latin-1, utf-16") from None
    return encoding


def _from_csv(path: Path, encoding: str | None) -> list[AccountFacts]:
    try:
        export = read_account_export(path, encoding)
    except ExportError as exc:
        raise fail(f"--from-csv: {exc}") from None
    except OSError as exc:
        raise fail(f"--from-csv: cannot read {path}: {exc.strerror}") from None
    if export.skipped:
        console.print(f"[yellow]{describe_skipped(export.skipped)}[/]")
    return [AccountFacts(a) for a in export.accounts]


def _synced(settings: Settings, crm: str, progress: Progress) -> sessionmaker[Session]:
    sessions = open_store(settings)[1]
    with _connector(settings, crm) as connector:
        mirror.sync(connector, sessions, crm, progress=progress)
    return sessions


def _facts(settings: Settings, crm: str, from_csv: Path | None, encoding: str | None,
           progress: Progress) -> tuple[list[AccountFacts], dict[str, str]]:
    """The accounts with their facts, and the owners' names by id (an export names owners itself)."""
    if from_csv is not None:
        return _from_csv(from_csv, encoding), {}
    sessions = _synced(settings, crm, progress)
    with sessions() as session:
        org = mirror.MirrorOrg(session, crm)
        return facts_from_org(org), {owner_id: owner.name for owner_id, owner in org.owners().items()}


def _people_plan(settings: Settings, crm: str, object_type: ObjectType, rules: Policy,
                 progress: Progress) -> MergePlan:
    sessions = _synced(settings, crm, progress)
    with sessions() as session:
        facts, accounts = people_facts(mirror.MirrorOrg(session, crm), object_type)
    return build_people_plan(object_type, facts, accounts, rules, progress)


def _object_or_exit(value: str, from_csv: Path | None) -> ObjectType:
    found = OBJECTS.get(value.strip().lower())
    if found is None:
        raise fail(f"--object {value!r}: merge accounts, contacts or leads")
    if found is not ObjectType.ACCOUNT and from_csv is not None:
        raise fail(f"--from-csv reads account exports only; plan {value} from the CRM (without --from-csv)")
    return found


def _print_cluster(cluster: ClusterPlan) -> None:
    approved = "  [green]approved[/]" if cluster.approved else ""
    console.print(f"[bold]{cluster.cluster_id}[/] {cluster.tier.value} tier, score {cluster.score:.0f}{approved}")
    for record_id in (cluster.master_id, *cluster.loser_ids):
        role = "master " if record_id == cluster.master_id else "  merge"
        console.print(f"  {role} {record_id}  {cluster.names.get(record_id, '')}", markup=False)
    left_out = [i for i in cluster.names if i != cluster.master_id and i not in cluster.loser_ids]
    if left_out:
        console.print(f"  left out (approve=no): {', '.join(left_out)}", markup=False)
    if cluster.fields:
        console.print(f"  master's new values: {cluster.fields}", markup=False)
    console.print(f"  why: {cluster.reason}", markup=False)


def _print_plan(plan: MergePlan) -> None:
    console.print(plan.summary())
    for cluster in plan.clusters[:EXCERPT]:
        _print_cluster(cluster)
    if len(plan.clusters) > EXCERPT:
        console.print(f"... and {len(plan.clusters) - EXCERPT} more clusters (see the --out file)")
    for finding in plan.findings:
        console.print(f"[yellow]not proposed:[/] {finding.reason}", markup=True)


@app.command("plan")
def plan_command(
    crm: CrmOption = None,
    object_type: Annotated[str, typer.Option(
        "--object", help="What to dedupe: accounts, contacts or leads (HubSpot: contacts in a lead stage).")
    ] = "accounts",
    from_csv: Annotated[Path | None, typer.Option(help="Plan on a Salesforce or HubSpot account export.")] = None,
    encoding: Annotated[str | None, typer.Option(
        help="The --from-csv file's encoding, e.g. cp1252 (default: told by its byte-order mark, else UTF-8)."
    )] = None,
    out: Annotated[Path | None, typer.Option(help="Write the plan: FILE.csv (to review), .json or .html.")] = None,
    policy: PolicyOption = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Processes that match accounts (default: one per CPU core).")
    ] = os.cpu_count() or 1,
) -> None:
    """Find duplicate accounts, contacts or leads and write a reviewable merge plan (syncs the mirror first)."""
    warden_logging.configure()
    settings = settings_or_exit()
    rules = policy_or_exit(settings, policy)
    merged = _object_or_exit(object_type, from_csv)
    connection = crm_or_exit(crm, settings)
    progress = progress_on()
    if merged is ObjectType.ACCOUNT:
        codec = _encoding_or_exit(encoding)
        facts, owners = _facts(settings, connection, from_csv, codec, progress)
        plan = build_plan(facts, rules, workers, record_links(settings, connection), owners, progress)
        plan = replace(plan, source=plan_source(settings, connection, from_csv, codec))
    else:
        plan = _people_plan(settings, connection, merged, rules, progress)
    _print_plan(plan)
    if out is not None:
        try:
            write_plan(plan, out)
        except (OSError, PlanFileError) as exc:
            raise fail(f"cannot write --out {out}: {exc}") from None
        console.print(f"Plan written to {out}: set approve=yes on the clusters to merge, then "
                      f"`{warden_command()} dedupe apply {out}`")


def _approved(plan: Path, settings: Settings, crm: str) -> list[ClusterPlan]:
    """The approved clusters of ``plan``, if it was made on ``crm``: another CRM's plan is one line, exit 2."""
    try:
        clusters = [c for c in read_plan(plan) if c.approved and c.loser_ids]
        source = read_plan_source(plan)
    except (OSError, PlanFileError) as exc:
        raise fail(f"cannot read plan {plan}: {exc}") from None
    problem = source.mismatch(crm, crm_identity(settings, crm)) if source else None
    if problem:
        raise fail(f"cannot apply {plan}: {problem}")
    return clusters


def _revised(plan: Path, clusters: list[ClusterPlan], settings: Settings, crm: str,
             policy: Path | None) -> list[ClusterPlan]:
    """Clusters whose master the reviewer moved, or records left out, with what survives worked out again."""
    pending = [c for c in clusters if c.revise and c.object is ObjectType.ACCOUNT]
    if not pending:
        return clusters
    rules = policy_or_exit(settings, policy)
    ids = [i for c in pending for i in (c.master_id, *c.loser_ids)]
    with _connector(settings, crm) as connector:
        found = connector.fetch(ObjectType.ACCOUNT, ids)
    accounts = {i: r for i, r in found.items() if isinstance(r, Account) and r.id == i}
    missing = [i for i in ids if i not in accounts]
    if missing:
        raise fail(f"cannot apply {plan}: {', '.join(missing[:5])} no longer in {crm} (merged or deleted); "
                   "plan again")
    revised = {c.cluster_id: revise(c, reviewed_facts(c, accounts), rules) for c in pending}
    return [revised.get(c.cluster_id, c) for c in clusters]


def _merge_json(cluster: ClusterPlan, status: str, key: str | None = None, error: str | None = None) -> dict[str, Any]:
    return {"cluster_id": cluster.cluster_id, "object": cluster.object.value, "master_id": cluster.master_id,
            "loser_ids": list(cluster.loser_ids), "fields": cluster.fields, "reason": cluster.reason,
            "status": status, "key": key, "error": error}


def _merge_alone(clusters: list[ClusterPlan], connector: Connector, settings: Settings, connection: str) -> MergeRun:
    """Merge while no other ``dedupe apply`` runs for ``connection``, after settling what a killed one left.

    A merge the CRM made just before its process died is still planned in the ledger; once found in
    the re-synced mirror it is marked applied, so applying the plan again skips it and undo finds it.
    """
    engine, sessions = open_store(settings)
    try:
        locks = locks_for(engine)
    except ValueError as exc:
        raise fail(str(exc)) from None
    try:
        return _merge_locked(clusters, connector, sessions, locks, connection)
    except LockError as exc:
        raise fail(str(exc)) from None
    except SQLAlchemyError as exc:
        raise ledger_failed(settings, exc, "the merges") from None


def _merge_locked(clusters: list[ClusterPlan], connector: Connector, sessions: sessionmaker[Session],
                  locks: JobLocks, connection: str) -> MergeRun:
    with locks.hold(MERGE_JOB, connection) as held:
        if not held:
            raise fail(f"another `warden dedupe apply` is merging on {connection!r}: "
                        "try again when it has finished", 1)
        _, settled = settle_interrupted(sessions, connector, connection, (MERGE_JOB,), datetime.now(UTC),
                                        apply=True, planned_by={})
        if settled.runs:
            console.print(f"[yellow]Settled {len(settled.runs)} interrupted run(s) from the CRM[/]: "
                          f"{settled.shown} change(s) it had already made, {settled.applied} finished now.")
            for run_id in (r for r in settled.runs if applied_merges(sessions, r)):
                console.print(f"  to take back its merges: {warden_command()} dedupe undo {run_id}")
        return apply_plan(clusters, connector, sessions, connection, datetime.now(UTC), progress_on())


@app.command("apply")
def apply_command(
    plan: Annotated[Path, typer.Argument(help="A plan written by `warden dedupe plan --out` (.csv or .json).")],
    crm: CrmOption = None,
    apply: ApplyOption = False,
    as_json: JsonOption = False,
    policy: PolicyOption = None,
) -> None:
    """Merge the plan's approved clusters; a dry run prints what would merge.

    Where the reviewer moved a master or left records out, the master's values are worked out again
    (by the policy, from the records as the CRM holds them now) before anything is printed or merged.
    """
    warden_logging.configure(json_output=True if as_json else None)
    settings = settings_or_exit()
    crm = crm_or_exit(crm, settings)
    clusters = _revised(plan, _approved(plan, settings, crm), settings, crm, policy)
    if not clusters and not as_json:
        console.print(f"No approved cluster in {plan}: write yes in the approve column of the clusters to merge.")
        return
    if not apply:
        if as_json:
            print(json.dumps({"dry_run": True, "merges": [_merge_json(c, "would merge") for c in clusters]}, indent=2))
            return
        for cluster in clusters:
            _print_cluster(cluster)
        console.print(f"DRY RUN: {len(clusters)} approved clusters would merge; add --apply to merge them.")
        return
    with _connector(settings, crm) as connector:
        run = _merge_alone(clusters, connector, settings, crm)
    if as_json:
        print(json.dumps({"dry_run": False, "run_id": run.run_id, "stopped": run.stopped, "merges": [
            _merge_json(o.cluster, o.status.value, o.key, o.error) for o in run.outcomes]}, indent=2))
        if run.count(ActionStatus.FAILED) or run.stopped:
            raise typer.Exit(1)
        return
    for outcome in run.outcomes:
        cluster = outcome.cluster
        names = " + ".join(cluster.names.get(i, i) for i in (cluster.master_id, *cluster.loser_ids))
        console.print(f"{outcome.status.value:>8}  {cluster.cluster_id}  {names}  {outcome.error or ''}",
                      markup=False)
    console.print(f"Run {run.run_id}: {run.count(ActionStatus.APPLIED)} merged, {run.count(ActionStatus.FAILED)} "
                  f"failed, {run.count(ActionStatus.SKIPPED)} already merged (or their undo has not finished). "
                  f"Undo: {warden_command()} dedupe undo {run.run_id}")
    if run.stopped:
        console.print(f"[yellow]{run.stopped}[/]")
    if run.count(ActionStatus.FAILED) or run.stopped:
        raise typer.Exit(1)


@app.command("undo")
def undo_command(
    run_or_merge_id: Annotated[str, typer.Argument(help="A dedupe run id, or one merge's key (merge:...).")],
    crm: Annotated[str | None, typer.Option(help="The CRM to restore (default: the one merged).")] = None,
    apply: ApplyOption = False,
    overwrite: Annotated[bool, typer.Option(
        "--overwrite", help="Restore a master even over fields a user changed since the merge (listed without it)."
    )] = False,
    as_json: JsonOption = False,
) -> None:
    """Put merged accounts, contacts or leads and their children back from the ledger's snapshots (no time limit).

    A merge whose master a user changed since is not restored: the changed fields are listed, and
    --overwrite restores it anyway.
    """
    warden_logging.configure(json_output=True if as_json else None)
    settings = settings_or_exit()
    sessions = open_store(settings)[1]
    try:
        connection = crm or merges_to_undo(sessions, run_or_merge_id)[0].connection
        with _connector(settings, connection) as connector:
            run = undo(run_or_merge_id, connector, sessions, datetime.now(UTC), apply=apply, overwrite=overwrite,
                       progress=progress_on())
    except NothingToUndo as exc:
        raise fail(str(exc), 1) from None
    failed = any(o.status is ActionStatus.FAILED or (o.error and o.changed) for o in run.outcomes)
    if as_json:
        print(json.dumps({"dry_run": run.run_id is None, "run_id": run.run_id, "undone": [
            {"key": o.merge.key, "object": o.merge.object.value, "master_id": o.merge.master_id,
             "loser_ids": list(o.merge.loser_ids), "status": o.status.value, "restored": list(o.restored),
             "changed": list(o.changed), "error": o.error} for o in run.outcomes]}, indent=2))
        if failed:
            raise typer.Exit(1)
        return
    for outcome in run.outcomes:
        restored = ", ".join(outcome.restored)
        console.print(f"{outcome.status.value:>8}  {outcome.merge.key}  {restored}  {outcome.error or ''}",
                      markup=False)
    if run.run_id is None:
        console.print("DRY RUN: nothing was restored; add --apply to restore these records.")
    else:
        console.print(f"Undo run {run.run_id} recorded in the ledger.")
    if any(o.status is ActionStatus.FAILED or (o.error and o.changed) for o in run.outcomes):
        raise typer.Exit(1)
