import pytest

from config.policy import AccountTypes, CadenceRule, GateRule, OverdueRule, StaleDealRule, StaleLeadRule
from config.policy_file import PolicyError, load_policy, parse_policy
from config.settings import PACKAGED_POLICY

STAGES = """\
queues: [Marketing Queue]
stages:
  lead: [{name: Qualified}, {name: Returned to Marketing, closed: true}]
  opportunity: [{name: Discovery}, {name: Closed Lost, closed: true}, {name: Closed Won, closed: true, won: true}]
rules:
"""


def problems(text: str) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "p.yaml")
    return [str(p) for p in caught.value.problems]


def test_packaged_policy_encodes_every_rule_family_with_the_seed_numbers() -> None:
    """The shipped policy has 60-day stale deals, qualified leads back to marketing, 90-day calls, overdue, gates."""
    rules = {type(r): r for r in load_policy(PACKAGED_POLICY).rules}
    assert isinstance(deal := rules[StaleDealRule], StaleDealRule) and deal.after_days == 60
    assert isinstance(lead := rules[StaleLeadRule], StaleLeadRule) and lead.return_to.queue == "Marketing Queue"
    assert isinstance(calls := rules[CadenceRule], CadenceRule) and calls.every_days == 90
    assert OverdueRule in rules and GateRule in rules


def test_closed_lost_stage_must_be_a_closed_lost_opportunity_stage() -> None:
    """Closing stale deals into a won or unknown stage is refused, naming the rule and the stage."""
    rule = "  - {id: stale, kind: stale_deal, warning: {subject: Move it}, closed_lost_stage: Closed Won}\n"
    [problem] = problems(STAGES + rule)
    assert "rule 'stale' closes into 'Closed Won'" in problem


def test_stale_lead_statuses_must_exist() -> None:
    """A stale-lead rule naming a status the lead stages do not have is an error naming it."""
    rule = ("  - {id: leads, kind: stale_lead, statuses: [Qualifed], return_to: {kind: queue, queue: Marketing Queue},"
            " set_status: Returned to Marketing}\n")
    assert any("lead statuses not in stages.lead: Qualifed" in p for p in problems(STAGES + rule))


def test_account_type_mapping_ignores_case_and_spaces() -> None:
    """'Customer', ' customer ' and 'Client' map as the policy says; unknown or missing values map to nothing."""
    mapping = AccountTypes(values={"Customer": "customer", "client": "customer", "Partner": "partner"})
    assert [mapping.category(v) for v in ("Customer", " customer ", "CLIENT", "Partner", "Vendor", None)] == [
        "customer", "customer", "customer", "partner", None, None]


def test_aliases_must_map_onto_a_stage_of_the_policy() -> None:
    """An alias whose target is no stage or status of the policy is an error naming the CRM and the name."""
    text = STAGES.replace("rules:\n", "  aliases: {hubspot: {'Contract Sent': Negotiation}}\nrules: []\n")
    assert any("stages.aliases.hubspot maps onto 'Negotiation'" in p for p in problems(text))


def test_a_pipeline_named_twice_is_an_error() -> None:
    """Two stage lists for one pipeline (names compared ignoring case) cannot both apply."""
    own = ("  pipelines:\n    - {name: Renewals, opportunity: [{name: Due}]}\n"
           "    - {name: renewals, opportunity: [{name: X}]}\n")
    text = STAGES.replace("rules:\n", own + "rules: []\n")
    assert any("names a pipeline twice: renewals" in p for p in problems(text))


def test_account_category_falls_back_to_the_next_field() -> None:
    """With also_from, an account whose type says nothing is categorized by its lifecycle stage."""
    types = AccountTypes(values={"customer": "customer", "PROSPECT": "prospect"}, also_from=("lifecycle_stage",))
    values = {"account_type": None, "lifecycle_stage": "customer"}
    assert types.category_of(values.get) == "customer"
    assert types.category_of({"account_type": "PROSPECT", "lifecycle_stage": "customer"}.get) == "prospect"
    assert types.category_of({}.get) is None
