"""Stage gates (seeds 001 and 002): a stage cannot be held without its data.

A record sitting in a stage whose required fields are blank (amount, close date, probability, BANT
answers kept as custom fields...), or whose probability differs from the stage's fixed one, is a
finding. The policy chooses the fix: a task asking the owner to complete the record, or moving the
record back to the last earlier stage whose requirements it meets (a wrong probability alone is set
to the stage's value). Closed stages are not gated; a stage the policy does not define is skipped
with a reason. Keys are per record and stage entry, so re-entering a stage is judged afresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from config.policy import GateRule, Stage, Stages
from domain.org import OrgData
from domain.plan import Action, ActionKind, Finding, RuleResult, Skip
from domain.records import Lead, ObjectType, Opportunity
from enforcement.context import RuleContext
from enforcement.owner_facts import OwnerFacts
from enforcement.record_fields import field_value, is_blank
from enforcement.tasks import task_payload
from enforcement.wording import record_label

Gated = Lead | Opportunity


@dataclass(frozen=True)
class _Breach:
    record: Gated
    stage: Stage
    missing: list[str]
    wrong_probability: bool
    earlier: tuple[Stage, ...]
    """The stages before this one, in order."""


def evaluate(rule: GateRule, ctx: RuleContext, org: OrgData) -> RuleResult:
    """Find records held in a stage without that stage's data and plan the policy's fix for each.

    A deal is judged by the stages of its own pipeline (``stages.pipelines``), else the default list.
    """
    object_type = ObjectType(rule.object)
    result = RuleResult()
    facts = OwnerFacts(ctx)
    lead = object_type is ObjectType.LEAD
    records = org.records(object_type) if lead else org.gate_suspects(_gates(rule, ctx.policy.stages))
    positions: dict[str | None, tuple[tuple[Stage, ...], dict[str, int]]] = {}
    for record in records:
        if not isinstance(record, Lead | Opportunity) or (isinstance(record, Opportunity) and record.is_closed):
            continue
        pipeline = record.pipeline if isinstance(record, Opportunity) else None
        if pipeline not in positions:
            stages = ctx.policy.stages.lead if lead else ctx.policy.stages.for_pipeline(pipeline)
            positions[pipeline] = (stages, {s.name: i for i, s in enumerate(stages)})
        stages, position = positions[pipeline]
        name = _stage_name(record)
        if name is None or name not in position:
            known = ", ".join(position) or "none"
            where = f"stages of pipeline {pipeline!r}" if pipeline and stages is not ctx.policy.stages.opportunity \
                else f"stages.{rule.object}"
            result.skips.append(Skip(rule.id, object_type, record.id,
                                     f"stage {name!r} is not in the policy's {where} ({known}): "
                                     "add it there, alias it in stages.aliases, or correct the record"))
            continue
        index = position[name]
        stage = stages[index]
        if stage.closed:
            continue
        missing = [f for f in stage.required if is_blank(field_value(record, f))]
        wrong = rule.check_probability and _probability_differs(record, stage)
        if missing or wrong:
            _plan(rule, facts, _Breach(record, stage, missing, wrong, stages[:index]), result)
    return result


def _gates(rule: GateRule, stages: Stages) -> dict[str, tuple[tuple[str, ...], float | None]]:
    """What the database may pre-filter deals on: each open stage's required fields and checked probability.

    A stage name open in several pipelines with different rules gets every pipeline's required fields and
    no probability check, so the pre-filter keeps every deal the rule may flag (the rule re-checks each).
    """
    gates: dict[str, tuple[tuple[str, ...], float | None]] = {}
    for stage in (s for s in stages.all_opportunity() if not s.closed):
        probability = stage.probability if rule.check_probability else None
        if stage.name in gates:
            required, known = gates[stage.name]
            merged = tuple(dict.fromkeys((*required, *stage.required)))
            gates[stage.name] = (merged, known if known == probability else None)
        else:
            gates[stage.name] = (stage.required, probability)
    return gates


def _stage_name(record: Gated) -> str | None:
    return record.stage if isinstance(record, Opportunity) else record.status


def _probability_differs(record: Gated, stage: Stage) -> bool:
    if not isinstance(record, Opportunity) or stage.probability is None or record.probability is None:
        return False
    return abs(record.probability - stage.probability) > 1e-9


def _qualifies(record: Gated, stage: Stage) -> bool:
    return not stage.closed and all(not is_blank(field_value(record, f)) for f in stage.required)


def _problems(breach: _Breach) -> str:
    parts = []
    if breach.missing:
        parts.append("its required " + ", ".join(breach.missing) + (" is" if len(breach.missing) == 1 else " are")
                     + " missing")
    if breach.wrong_probability and isinstance(breach.record, Opportunity):
        parts.append(f"its probability is {breach.record.probability:g}% where the stage fixes "
                     f"{breach.stage.probability:g}%")
    return " and ".join(parts)


def _plan(rule: GateRule, facts: OwnerFacts, breach: _Breach, result: RuleResult) -> None:
    record, object_type = breach.record, ObjectType(rule.object)
    whose = facts.answerable(record.owner_id)
    entered = (record.stage_changed_at if isinstance(record, Opportunity) else record.status_changed_at)
    key = f"{rule.id}:{object_type}:{record.id}:{breach.stage.name}:{(entered or record.created_at).isoformat()}"
    step = "stage" if isinstance(record, Opportunity) else "status"
    reason = f"{record_label(record)} is in {step} {breach.stage.name!r} but {_problems(breach)}"
    evidence: dict[str, Any] = {
        "policy": f"stages.{rule.object}[name={breach.stage.name}] via rules[id={rule.id}]",
        "stage": breach.stage.name,
        "missing": breach.missing,
        "probability": record.probability if isinstance(record, Opportunity) else None,
        "stage_probability": breach.stage.probability,
        "since": (entered or record.created_at).isoformat(),
        "amount": record.amount if isinstance(record, Opportunity) else None,
    }
    fix = _move_back(rule, breach, key) if rule.action == "move_back" else None
    if fix is not None:
        reason += f". {fix[0]}"
        evidence["fix"] = fix[1].payload
        result.findings.append(Finding(rule.id, object_type, record.id, whose, reason, evidence))
        result.actions.append(Action(fix[1].kind, object_type, record.id, fix[1].key, reason, rule.id,
                                     fix[1].payload))
        return
    if rule.action == "move_back":
        reason += "; no earlier stage's requirements are met either"
    owner = facts.ctx.owner(record.owner_id)
    assignee = facts.acting(owner) if owner is not None and not owner.is_queue else None
    if assignee is None:
        reason += "; nobody to ask: the record has no active owner or manager."
        result.findings.append(Finding(rule.id, object_type, record.id, whose, reason, evidence))
        return
    reason += f". Ask {assignee.name} to complete it."
    result.findings.append(Finding(rule.id, object_type, record.id, whose, reason, evidence))
    about = {"what_id": record.id} if isinstance(record, Opportunity) else {"who_id": record.id}
    payload = task_payload(facts, rule.task, assignee, reason, **about)
    result.actions.append(Action(ActionKind.CREATE_TASK, object_type, record.id, f"{key}:task", reason, rule.id,
                                 payload))


@dataclass(frozen=True)
class _Fix:
    kind: ActionKind
    key: str
    payload: dict[str, Any]


def _move_back(rule: GateRule, breach: _Breach, key: str) -> tuple[str, _Fix] | None:
    """The update that fixes the breach without the owner: a stage back, or the fixed probability."""
    record = breach.record
    if not breach.missing:
        return (f"Set its probability to {breach.stage.probability:g}%.",
                _Fix(ActionKind.UPDATE, f"{key}:probability", {"probability": breach.stage.probability}))
    target = next((s for s in reversed(breach.earlier) if _qualifies(record, s)), None)
    if target is None:
        return None
    field = "stage" if isinstance(record, Opportunity) else "status"
    payload: dict[str, Any] = {field: target.name}
    if isinstance(record, Opportunity) and target.probability is not None:
        payload["probability"] = target.probability
    if isinstance(record, Opportunity) and record.pipeline:
        payload["pipeline"] = record.pipeline  # the stage is the one of this pipeline
    return (f"Move it back to {target.name!r}, the last step its data qualifies for.",
            _Fix(ActionKind.UPDATE, f"{key}:move_back", payload))
