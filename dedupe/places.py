"""Where two accounts are: the same place, different places, or nearby with the same phone.

A street line is a house number and a street. The same number on the same street (one typo allowed
in the street) is one place, and counts as evidence. Lines that differ a little are *nearby*: the
same number on a street written another way ("4910 S King Dr", "4910 S Martin Luther King Dr"), or
a number inside the other's range ("7954-58 S Western", "7956 S Western"). Nearby lines with the
same phone number are one site written two ways, so they do not keep the accounts apart (nor count
as evidence); any other pair of different lines is two places. A phone alone does not bridge two
streets: organisations give many sites one central number.

Two house numbers one digit apart ("7946 S Ashland", "7949 S Ashland") are two places, even with one
phone: they may be a typo, but on the Chicago labels a third of such pairs were two sites of one
organisation next door to each other, far below the precision an admin's review may rely on.
"""

from __future__ import annotations

from rapidfuzz import fuzz

from dedupe.candidate import Profile

_STREET_TYPO_SCORE = 85


def differ(mine: str | None, theirs: str | None) -> bool:
    """Whether both values are known and different."""
    return mine is not None and theirs is not None and mine != theirs


def _numbers_and_street(line: str) -> tuple[range | str, str]:
    """House number (a range for "7954-58 S Western": 7954 to 7958) and street."""
    number, _, street = line.partition(" ")
    range_end, _, after = street.partition(" ")
    if range_end.isdigit() and number.isdigit() and len(range_end) < len(number):
        last = int(number[: len(number) - len(range_end)] + range_end)
        if last > int(number):
            return range(int(number), last + 1), after
        street = after
    return number, street


def _same_number(mine: range | str, theirs: range | str) -> bool:
    if isinstance(mine, range) or isinstance(theirs, range):
        numbers = [set(n) if isinstance(n, range) else {int(n)} if n.isdigit() else set() for n in (mine, theirs)]
        return not numbers[0].isdisjoint(numbers[1])
    return mine == theirs


def same_street(mine: str, theirs: str) -> bool:
    """Whether two normalized street lines are one: equal, or one typo apart with the same house number."""
    if mine == theirs:
        return True
    number, _, rest = mine.partition(" ")
    other_number, _, other_rest = theirs.partition(" ")
    return number == other_number and fuzz.ratio(rest, other_rest) >= _STREET_TYPO_SCORE


def nearby_streets(mine: str, theirs: str) -> bool:
    """Whether two street lines may be one site: the same house number, or one inside the other's range."""
    return _same_number(_numbers_and_street(mine)[0], _numbers_and_street(theirs)[0])


def streets_differ(left: Profile, right: Profile) -> bool:
    """Whether both accounts have a street line and the lines are not one."""
    return left.street is not None and right.street is not None and not same_street(left.street, right.street)


def _two_places(left: Profile, right: Profile) -> bool:
    if left.street is None or right.street is None or same_street(left.street, right.street):
        return False
    phones_agree = left.phone is not None and left.phone == right.phone
    return not (phones_agree and nearby_streets(left.street, right.street))


def places_conflict(left: Profile, right: Profile) -> bool:
    """Whether both accounts have a website domain, street line, postcode, city or country, and they differ.

    Nearby street lines with the same phone are not a conflict (see the module docstring).
    """
    return (
        differ(left.domain, right.domain)
        or _two_places(left, right)
        or differ(left.postcode, right.postcode)
        or differ(left.city, right.city)
        or differ(left.country, right.country)
    )


def same_address(left: Profile, right: Profile) -> bool:
    """Whether both accounts have one street line in one place (same postcode, or else same city)."""
    if not (left.street and right.street and same_street(left.street, right.street)):
        return False
    if left.postcode and right.postcode:
        return left.postcode == right.postcode
    return not (left.city and right.city) or left.city == right.city
