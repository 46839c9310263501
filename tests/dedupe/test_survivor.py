"""Survivor rules, field survivorship and the naming convention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.dedupe_policy import DedupePolicy, NamingConvention
from config.policy import AccountTypes
from dedupe.survivor import AccountFacts, choose_master, conventional_name, survivorship
from domain.records import Account

NOW = datetime(2026, 11, 20, tzinfo=UTC)
TYPES = AccountTypes(values={"Customer": "customer", "Prospect": "prospect"})


def account(account_id: str, days_old: int = 10, updated_days_ago: int = 5, **fields: object) -> Account:
    return Account(account_id, fields.pop("name", "Acme"), None, NOW - timedelta(days=days_old),  # type: ignore[arg-type]
                   NOW - timedelta(days=updated_days_ago), **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("criteria", "members", "master", "why"),
    [
        (("most_open_opportunities", "oldest"),
         [AccountFacts(account("a", 900)), AccountFacts(account("b", 10), open_opportunities=2)], "b", "open deals"),
        (("most_activity",), [AccountFacts(account("a"), activities=1), AccountFacts(account("b"), activities=7)],
         "b", "most activity (7 vs 1"),
        (("oldest",), [AccountFacts(account("a", 10)), AccountFacts(account("b", 900))], "b", "oldest"),
        (("customer_over_prospect", "oldest"),
         [AccountFacts(account("a", 900, account_type="Prospect")),
          AccountFacts(account("b", 10, account_type="customer"))], "b", "customer"),
        (("most_complete",), [AccountFacts(account("a")), AccountFacts(account("b", phone="1", website="b.com"))],
         "b", "complete"),
        (("oldest",), [AccountFacts(account("b")), AccountFacts(account("a"))], "a", "tie"),
    ],
)
def test_master_follows_the_first_criterion_that_tells_accounts_apart(
    criteria: tuple[str, ...], members: list[AccountFacts], master: str, why: str
) -> None:
    """Each criterion picks its winner and the plan says which criterion decided (ties: smallest id)."""
    chosen, reason = choose_master(members, criteria, TYPES)  # type: ignore[arg-type]
    assert chosen.account.id == master
    assert why in reason


def test_field_rules_pick_newest_longest_and_sum() -> None:
    """Newest non-empty phone, longest website, summed employees; the master's own values otherwise."""
    master = account("m", 900, 50, phone="old", website="m.com", extra={"employees": 10}, billing_city="Boston")
    loser = account("l", 10, 1, phone="new", website="www.much-longer.com", extra={"employees": 5}, billing_city="NYC")
    empty = account("e", 5, 0, phone="", extra={})
    policy = DedupePolicy(survivor=("oldest",),
                          fields={"phone": "newest_non_empty", "website": "longest", "employees": "sum",
                                  "billing_city": "master"})
    result = survivorship([AccountFacts(master), AccountFacts(loser), AccountFacts(empty)], policy, TYPES)
    assert result.master_id == "m" and result.loser_ids == ("l", "e")
    assert result.fields == {"phone": "new", "website": "www.much-longer.com", "employees": 15}


def test_rename_writes_the_canonical_suffix_only_when_asked() -> None:
    """With a naming convention the master "Acme Products, Incorporated" becomes "Acme Products, Inc."."""
    members = [AccountFacts(account("a", 900, name="Acme Products, Incorporated")), AccountFacts(account("b"))]
    plain = survivorship(members, DedupePolicy(survivor=("oldest",), fields={}), TYPES)
    renamed = survivorship(members, DedupePolicy(survivor=("oldest",), fields={}, rename=NamingConvention()), TYPES)
    assert "name" not in plain.fields
    assert renamed.fields == {"name": "Acme Products, Inc."}


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Acme Products Inc", "Acme Products, Inc."), ("ACME PRODUCTS, INCORPORATED", "ACME PRODUCTS, Inc."),
     ("Zinc", "Zinc"), ("Inc.", "Inc."), ("Acme Products", "Acme Products")],
)
def test_conventional_name_only_rewrites_a_real_suffix(name: str, expected: str) -> None:
    """A suffix must follow a separator and a name; other names are left alone."""
    assert conventional_name(name, NamingConvention()) == expected


@given(st.text(alphabet="abc ,.IncorpAtd", max_size=30))
def test_conventional_name_is_idempotent(name: str) -> None:
    """Renaming an already conventional name changes nothing."""
    once = conventional_name(name, NamingConvention())
    assert conventional_name(once, NamingConvention()) == once


def test_a_variant_listed_under_two_canonical_forms_is_refused() -> None:
    """The policy names the variant that is ambiguous."""
    with pytest.raises(ValueError, match="'Inc'"):
        NamingConvention(suffixes={"Inc.": ("Inc",), "Incorporated": ("Inc",)})
