"""Each rule's current judgments kept in the process between runs, so carrying them forward is free.

The worker (and each Celery process) is long-lived: after a pass it holds what every rule concluded
per record, and the next incremental pass only swaps in the records it judged again. The copy is
used only while the rule's mark in the store is the one it was made with; any other process's run
of the rule moves the mark, and this process then reads the judgments back from the store. While
it holds all the store holds (clocks included), storing a pass compares with it instead of reading
the stored judgments back.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain

from domain.plan import Action, Finding, RuleResult, Skip
from store.rule_state import Judgment, Mark


@dataclass
class Judgments:
    """A rule's findings, actions and skips, by the record they are about."""

    findings: dict[str, list[Finding]] = field(default_factory=dict)
    actions: dict[str, list[Action]] = field(default_factory=dict)
    skips: dict[str, list[Skip]] = field(default_factory=dict)
    recheck: dict[str, datetime] = field(default_factory=dict)
    """All the store holds for the rule: its clocks too, of records it holds nothing else for."""

    @classmethod
    def of(cls, result: RuleResult) -> Judgments:
        judgments = cls()
        judgments.add(result)
        return judgments

    def add(self, result: RuleResult) -> None:
        for finding in result.findings:
            self.findings.setdefault(finding.record_id, []).append(finding)
        for action in result.actions:
            self.actions.setdefault(action.record_id, []).append(action)
        for skip in result.skips:
            self.skips.setdefault(skip.record_id, []).append(skip)
        self.recheck.update(result.recheck)

    def held(self, record_ids: Collection[str]) -> dict[str, Judgment]:
        """What the store holds for each of ``record_ids`` it holds anything for."""
        held: dict[str, Judgment] = {}
        for record_id in record_ids:
            findings, actions = self.findings.get(record_id, ()), self.actions.get(record_id, ())
            skips, recheck = self.skips.get(record_id, ()), self.recheck.get(record_id)
            if findings or actions or skips or recheck is not None:
                held[record_id] = (recheck, tuple(findings), tuple(actions), tuple(skips))
        return held

    def forget(self, record_ids: Collection[str]) -> None:
        for record_id in record_ids:
            self.findings.pop(record_id, None)
            self.actions.pop(record_id, None)
            self.skips.pop(record_id, None)
            self.recheck.pop(record_id, None)

    def result(self) -> RuleResult:
        return RuleResult(list(chain.from_iterable(self.findings.values())),
                          list(chain.from_iterable(self.actions.values())),
                          list(chain.from_iterable(self.skips.values())))


_KEPT: dict[tuple[str, str, str], tuple[Mark, Judgments]] = {}


def kept(store: str, connection: str, rule: str, mark: Mark) -> Judgments | None:
    """The judgments this process holds for the rule, if they are the ones ``mark`` stands for."""
    found = _KEPT.get((store, connection, rule))
    return found[1] if found is not None and found[0] == mark else None


def keep(store: str, connection: str, rule: str, mark: Mark, judgments: Judgments) -> None:
    _KEPT[(store, connection, rule)] = (mark, judgments)
