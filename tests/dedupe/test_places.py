import pytest
from hypothesis import given
from hypothesis import strategies as st

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
        ("7954 58 s", "7956 s western", True),
        ("7956 s western", "7954 58 s", True),
        ("7946 s ashland", "7949 s ashland", False),
        ("7954 58 s", "7960 s western", False),
        ("3826 w 58", "4026 w 59", False),
        ("8128 s racine", "8130 s racine", False),
    ],
)
def test_nearby_streets_share_a_house_number_or_one_in_a_range(mine: str, theirs: str, nearby: bool) -> None:
    """Same number on a street written another way, or a number inside the other's range, is nearby; else not."""
    assert nearby_streets(mine, theirs) is nearby


@given(st.integers(1, 99_999), st.integers(1, 99_999), st.sampled_from(["s ashland", "w 18", "main"]))
def test_different_house_numbers_are_never_nearby(number: int, other: int, street: str) -> None:
    """Two plain house numbers are one site only when they are equal, whatever the street."""
    assert nearby_streets(f"{number} {street}", f"{other} {street}") is (number == other)


def test_a_street_written_two_ways_merges_for_review() -> None:
    """The same house number on a street written two ways, with the same phone, is one site an admin confirms."""
    candidates = [
        site("a0", "Ezzard Charles School", "4910 S King Dr", "(773) 487-0227"),
        site("a1", "Ezzard Charles School", "4910 S Martin Luther King Dr", "773 487 0227"),
    ]
    (merge,) = find_duplicates(candidates).merges
    assert merge.tier is Tier.REVIEW
    assert [m.rule for m in merge.matches] == [MatchRule.NAME_AND_PHONE_NEARBY_STREET]


def test_a_house_number_one_digit_off_is_another_site_even_with_one_phone() -> None:
    """"Itsy Bitsy People Palace" at 7411 and at 7419 S Cottage Grove, one phone: two sites, not proposed."""
    candidates = [
        site("a0", "Itsy Bitsy People Palace, Inc.", "7411 S Cottage Grove Ave", "(773) 846-7396"),
        site("a1", "Itsy Bitsy People Palace, Inc.", "7419 S Cottage Grove", "773 846 7396"),
    ]
    assert find_duplicates(candidates).merges == []


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
