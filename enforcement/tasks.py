"""The payload of a ``create_task`` action, built the same way by every rule that asks someone to act."""

from __future__ import annotations

from typing import Any

from config.policy import FollowUpTask
from domain.records import Owner
from enforcement.owner_facts import OwnerFacts


def task_payload(
    facts: OwnerFacts,
    spec: FollowUpTask,
    assignee: Owner,
    description: str,
    *,
    what_id: str | None = None,
    who_id: str | None = None,
) -> dict[str, Any]:
    """The task the policy describes, for ``assignee``, due in business days of their own calendar."""
    return {
        "subject": spec.subject,
        "description": description,
        "owner_id": assignee.id,
        "due_date": facts.due_date(assignee, spec.due_in_business_days).isoformat(),
        "priority": spec.priority,
        "task_type": spec.task_type,
        "what_id": what_id,
        "who_id": who_id,
    }
