import pytest

from dedupe.candidate import Candidate
from dedupe.matcher import find_duplicates
from dedupe.places import nearby_streets
from dedupe.score import MatchRule, Tier


def site(account_id: str, name: str, street: str, phone: str | None) -> Candidate:
    return Candidate(account_id, name, street=street, phone=phone, city="Chicago")


@pytest.mark.parametrize(
    ("mine", "theirs", "nearby"),
    [
        ("4910 s king", "4910 s martin", True),
        ("7946 s ashland", "7949 s ashland", True),
        ("7954 58 s", "7956 s western", True),
        ("3826 w 58", "4026 w 59", False),
        ("7946 s ashland", "7949 s western", False),
        ("8128 s racine", "8130 s racine", False),
    ],
)
def test_nearby_streets_share_a_house_number_or_differ_by_one_digit(mine: str, theirs: str, nearby: bool) -> None:
    """Same number on a street written another way, or one digit off on one street, is nearby; else not."""
    assert nearby_streets(mine, theirs) is nearby


def test_one_site_written_two_ways_merges_for_review() -> None:
    """A one-digit slip in the house number, with the same phone, is one site an admin confirms."""
    candidates = [
        site("a0", "Ezzard Charles School", "7946 S. Ashland Ave", "(773) 487-0227"),
        site("a1", "Ezzard Charles School", "7949 S Ashland", "773 487 0227"),
    ]
    (merge,) = find_duplicates(candidates).merges
    assert merge.tier is Tier.REVIEW
    assert [m.rule for m in merge.matches] == [MatchRule.NAME_AND_PHONE_NEARBY_STREET]


def test_nearby_streets_without_the_same_phone_stay_apart() -> None:
    """Without a shared phone, two house numbers are two places."""
    candidates = [
        site("a0", "Ezzard Charles School", "7946 S. Ashland Ave", "(773) 487-0227"),
        site("a1", "Ezzard Charles School", "7949 S Ashland", "(773) 487-9999"),
        site("a2", "Ezzard Charles School", "7949 S Ashland", None),
    ]
    assert {frozenset(m.account_ids) for m in find_duplicates(candidates).merges} == {frozenset({"a1", "a2"})}


def test_a_central_phone_does_not_join_sites_on_different_streets() -> None:
    """An organisation's sites share its main number but not their addresses: they stay separate accounts."""
    candidates = [
        site("a0", "Chicago Commons Nia Family Center", "744 N Monticello Ave", "312 555 0100"),
        site("a1", "Chicago Commons Nia Family Center", "1814 S Paulina St", "312 555 0100"),
    ]
    assert find_duplicates(candidates).merges == []


def test_nearby_streets_need_names_that_agree() -> None:
    """On nearby streets, names that only share a word ("Bethune") are not proposed, even with one phone."""
    candidates = [
        site("a0", "Bethune", "3030 W Arthington St", "773 534 6890"),
        site("a1", "Chicago Public Schools Bethune, Mary McLeod", "3033 W. Arthington", "773 534 6890"),
    ]
    assert find_duplicates(candidates).merges == []
