"""Which words of a name identify a company, and which words tell two similar names apart.

Generic words ("consulting", "services", "group") appear in thousands of unrelated names, so two
names sharing only them share nothing. Markers (numbers, roman numerals, compass directions) are the
opposite: "Bank of the West" and "Bank of the East", or "Northwind II" and "Northwind III", differ
only by a marker and are different companies.
"""

from __future__ import annotations

import re
from functools import lru_cache

_GENERIC_TEXT = """
    a an and of the for in on at by to de la le du der die das del y et und
    consulting consultants consultancy services service group groups solutions holdings holding
    international global worldwide national american america usa us systems system technology
    partners partnership enterprises enterprise industries industrial associates association management
    company companies trading ventures capital investments investment properties property products product
    network networks media marketing software laboratories laboratory center centers agency foundation
    institute logistics resources development developments manufacturing brothers sons family
    financial finance bank insurance healthcare health medical care home homes realty real estate
    construction builders engineering energy studio studios design designs digital data labs works shop
    store stores supply supplies distribution distributors trust fund funds office offices department
    community school schools academy church university college club clubs society council city county
    learning child children childrens early childhood education educational day kids youth family
    new first united general standard universal premier royal best quality
    chicago boston texas california london paris berlin tokyo
"""
GENERIC_WORDS = frozenset(_GENERIC_TEXT.split())
"""Words that weigh little: sector, form and place words shared by many unrelated companies."""

_ROMAN_TEXT = "ii iii iv vi vii viii ix xi xii xiii xiv xv xvi xvii xviii xix xx"
ROMAN_NUMERALS = frozenset(_ROMAN_TEXT.split())
ROMAN_VALUES = dict(zip(_ROMAN_TEXT.split(), map(str, [*range(2, 5), *range(6, 10), *range(11, 21)]), strict=True))
_DIRECTION_TEXT = "north south east west northeast northwest southeast southwest northern southern eastern western"
DIRECTIONS = frozenset(_DIRECTION_TEXT.split())


_DIGIT = re.compile(r"\d")


@lru_cache(maxsize=1 << 18)
def is_marker(token: str) -> bool:
    """Whether ``token`` distinguishes otherwise equal names: a number, a roman numeral or a direction."""
    return token in DIRECTIONS or token in ROMAN_NUMERALS or _DIGIT.search(token) is not None


def markers(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """The markers among ``tokens``, sorted, roman numerals in digits ("III" and "3" agree)."""
    return tuple(sorted({ROMAN_VALUES.get(token, token) for token in tokens if is_marker(token)}))


@lru_cache(maxsize=1 << 18)
def is_distinctive(token: str) -> bool:
    """Whether ``token`` identifies a company: neither generic nor a marker, at least two characters."""
    return len(token) > 1 and token not in GENERIC_WORDS and not is_marker(token)
