"""``warden doctor`` and ``warden policy init``: check an org against a policy, or draft a policy from an org."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from config.policy import FieldMaps
from config.policy_file import PolicyError, parse_policy
from config.settings import Settings
from domain.connector import Connector, Inspector
from domain.errors import ConnectorError
from domain.invocation import warden_command
from jobs import log_setup as warden_logging
from jobs.connections import UnknownCrm, open_connector
from jobs.doctor import Problem, budget_line, diagnose
from jobs.inputs import crm_or_exit, fail, policy_or_exit, settings_or_exit
from jobs.policy_init import draft_policy

CrmOption = Annotated[str | None, typer.Option(help="local, salesforce or hubspot (default WARDEN_CRM).")]


def _say(line: str, *, err: bool = False) -> None:
    """One line, never wrapped or read as markup (problems quote keys like teams[East])."""
    typer.echo(line, err=err)


def _inspector(settings: Settings, crm: str, fields: FieldMaps | None = None) -> Connector:
    try:
        return open_connector(settings, crm, fields)
    except (UnknownCrm, ConnectorError) as exc:
        raise fail(str(exc)) from None


def _whole_budget(settings: Settings) -> Settings:
    """The settings with the whole daily API budget open to doctor's few metadata calls.

    The share in SALESFORCE_API_SHARE is meant for runs; doctor reports how much is left instead.
    """
    return settings.model_copy(update={"salesforce": settings.salesforce.model_copy(update={"api_share": 1.0})})


def doctor(
    crm: CrmOption = None,
    policy: Annotated[Path | None, typer.Option(help="Policy file (default WARDEN_POLICY).")] = None,
    fix: Annotated[bool, typer.Option("--fix", help="Create what doctor safely can: the task key field.")] = False,
) -> None:
    """Is this org ready for this policy? One line per problem with its fix; exit 0 when ready, 1 when not."""
    warden_logging.configure()
    settings = _whole_budget(settings_or_exit())
    name = crm_or_exit(crm, settings)
    loaded = policy_or_exit(settings, policy)
    connector = _inspector(settings, name, loaded.fields)
    if not isinstance(connector, Inspector):
        _say(f"✓ {name}: the embedded CRM needs no setup; the policy is valid")
        return
    try:
        facts = connector.inspect()
        owners = connector.owners()
        key_problem = connector.task_key_problem()
        if fix and key_problem is not None:
            key_problem = _fix_key(connector)
    except ConnectorError as exc:
        _say(f"✗ cannot read the {name} org: {' '.join(str(exc).split())}")
        raise typer.Exit(1) from None
    found = diagnose(loaded, facts, owners, key_problem)
    _say(f"{name} org{f', API {facts.api_version}' if facts.api_version else ''}: credentials work")
    for passed in found.passed:
        _say(f"✓ {passed}")
    for problem in found.problems:
        _say(f"✗ {problem}")
    if (budget := budget_line(facts)) is not None:
        _say(budget)
    _say("ready" if found.ready else f"not ready: {len(found.problems)} problem(s)")
    if not found.ready:
        raise typer.Exit(1)


def _fix_key(connector: Inspector) -> str | None:
    try:
        _say(f"fixed: {connector.create_task_key()}")
    except ConnectorError as exc:
        _say(f"✗ {Problem('could not create the task key field', ' '.join(str(exc).split()))}")
    return connector.task_key_problem()


def policy_init(
    crm: CrmOption = None,
    out: Annotated[Path | None, typer.Option(help="Write the policy here (default: print it).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace --out if it exists.")] = False,
) -> None:
    """Draft a commented policy from the live org: its stages, statuses, teams, queues and account types."""
    warden_logging.configure()
    settings = settings_or_exit()
    name = crm_or_exit(crm, settings)
    _writable_or_exit(out, force)
    connector = _inspector(settings, name)
    if not isinstance(connector, Inspector):
        raise fail(f"the {name} CRM has no metadata to draft from: copy config/policy.yaml instead")
    try:
        text = draft_policy(connector.inspect(), connector.owners(), datetime.now(UTC).date())
    except ConnectorError as exc:
        raise fail(f"cannot read the {name} org: {exc}", 1) from None
    try:
        drafted = parse_policy(text, "the drafted policy")
    except PolicyError as exc:  # a bug of ours: say so rather than write a policy that does not load
        raise fail(f"the drafted policy does not validate; please report it: {exc}", 1) from None
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"--out: cannot write {out}: {exc.strerror}") from None
    _say(f"wrote {out}: {len(drafted.stages.all_opportunity())} opportunity stages in "
         f"{1 + len(drafted.stages.pipelines)} pipeline(s), {len(drafted.stages.lead)} lead statuses, "
         f"{len(drafted.teams)} teams, {len(drafted.rules)} rules. "
         f"Next: {warden_command()} doctor --crm {name} --policy {out}",
         err=True)


def _writable_or_exit(out: Path | None, force: bool) -> None:
    """Refuse an --out the draft could not be written to before reading the org for it."""
    if out is None:
        return
    if out.is_dir():
        raise fail(f"--out: {out} is a folder: name the policy file to write, e.g. {out / 'policy.yaml'}")
    if not out.parent.is_dir():
        raise fail(f"--out: the folder {out.parent} does not exist")
    if out.exists() and not force:
        raise fail(f"--out: {out} exists: choose another --out, or add --force to replace it")
