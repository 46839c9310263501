"""Who reads about whose work: the CRM's manager, the policy's team manager, or the fallback."""

from __future__ import annotations

from config.policy import Policy, Team
from domain.records import Owner
from enforcement.calendar import BusinessCalendar
from enforcement.context import RuleContext
from notify.recipients import route
from tests.notify.conftest import NOW

MARIA = Owner("005M1", "Maria Lopez", "maria.lopez@example.com")
GONE = Owner("005M0", "Former Boss", "boss@example.com", active=False)
ALEX = Owner("005A", "Alex Carter", "alex.carter@example.com", manager_id="005M0")
QUEUE = Owner("00G1", "Marketing Queue", None, is_queue=True)


def context(*owners: Owner) -> RuleContext:
    team = Team(name="East", manager="maria.lopez@example.com", members=("alex.carter@example.com",))
    policy = Policy(teams=(team,))
    return RuleContext(policy, BusinessCalendar(policy.calendar), NOW, {o.id: o for o in owners})


def test_deactivated_crm_manager_gives_way_to_the_team_manager() -> None:
    """A rep whose CRM manager has left is reported to the manager of their team in the policy."""
    routing = route(["005A"], context(MARIA, GONE, ALEX), "ops@example.com")

    assert routing.by_owner["005A"].email == "maria.lopez@example.com"
    assert routing.notes == {} and routing.problems == []


def test_queue_owned_work_goes_to_the_fallback_with_a_note() -> None:
    """Work sitting in a queue has no manager: the fallback gets it and is told whose it is."""
    routing = route(["00G1", "gone-user"], context(MARIA, QUEUE), "ops@example.com")

    assert {o: r.email for o, r in routing.by_owner.items()} == {"00G1": "ops@example.com",
                                                                 "gone-user": "ops@example.com"}
    assert routing.notes["00G1"] == "work waiting in the queue Marketing Queue"
    assert routing.notes["gone-user"] == "owner id gone-user, who is not a user or queue in the CRM any more"


def test_manager_without_email_is_a_problem_reported_once() -> None:
    """Two reps of a manager with no address give one problem, and both go to the fallback."""
    silent = Owner("005M9", "Sam Silent", None)
    reps = [Owner(f"005R{i}", f"Rep {i}", f"rep{i}@example.com", manager_id="005M9") for i in range(2)]
    routing = route(["005R0", "005R1"], context(silent, *reps), "ops@example.com")

    assert {r.email for r in routing.by_owner.values()} == {"ops@example.com"}
    assert routing.problems == [
        "manager Sam Silent (user 005M9) has no email address: fix the email on their CRM user; "
        "meanwhile their team's digest goes to the fallback recipient"
    ]
