"""Re-read the policy file before each run, and keep the last good one when an edit does not validate.

An edit takes effect at the next run. A broken edit never reaches a run: the worker goes on with
the policy it last loaded, logs why the edit was refused, and reports it in ``warden status``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import structlog

from config.policy import Policy
from config.policy_file import PolicyError, parse_policy, read_policy_text
from jobs.job_table import ScheduledJob, job_table
from jobs.schedule import ScheduleError

log = structlog.get_logger(__name__)


class NoGoodPolicyError(RuntimeError):
    """The policy has never loaded, so there is nothing to run."""


@dataclass(frozen=True)
class LoadedPolicy:
    policy: Policy
    jobs: list[ScheduledJob]


def load_policy_text(text: str, source: str, default_crm: str) -> LoadedPolicy:
    """A policy's text, validated and scheduled.

    Raises:
        PolicyError: the text is not a valid policy.
        ScheduleError: a cron expression in it cannot be scheduled.
    """
    policy = parse_policy(text, source)
    return LoadedPolicy(policy, job_table(policy, default_crm))


class PolicyKeeper:
    """Holds the last policy that loaded and scheduled cleanly, and why a newer edit did not."""

    def __init__(self, path: Path, default_crm: str, on_accept: Callable[[str], None] = lambda _text: None) -> None:
        self.path = path
        self._default_crm = default_crm
        self._on_accept = on_accept
        """Called with the text of each policy that loads (kept in the ledger for ``warden status``)."""
        self._good: LoadedPolicy | None = None
        self._text: str | None = None
        """The file's text as last read: parsing again only when it changed keeps each pass cheap."""
        self.error: str | None = None

    def refresh(self) -> LoadedPolicy:
        """Load the file again; on failure keep the last good policy and record the reason.

        Raises:
            NoGoodPolicyError: the file is invalid and no earlier version ever loaded.
        """
        try:
            text = read_policy_text(self.path)
        except PolicyError as exc:
            return self._keep_last_good(str(exc))
        if text == self._text:
            return self._keep_last_good(self.error) if self.error else self._current()
        self._text = text
        try:
            loaded = load_policy_text(text, str(self.path), self._default_crm)
        except (PolicyError, ScheduleError) as exc:
            return self._keep_last_good(str(exc))
        if self.error is not None:
            log.info("policy.accepted", path=str(self.path))
        self._good, self.error = loaded, None
        self._on_accept(text)
        return loaded

    def _current(self) -> LoadedPolicy:
        if self._good is None:
            raise NoGoodPolicyError(f"policy {self.path} never loaded")
        return self._good

    def _keep_last_good(self, reason: str) -> LoadedPolicy:
        if reason != self.error:
            log.error("policy.rejected", path=str(self.path), reason=reason,
                      running="last good policy" if self._good else "nothing")
        self.error = reason
        if self._good is None:
            raise NoGoodPolicyError(f"policy {self.path} cannot be used, and no earlier version loaded: {reason}")
        return self._good
