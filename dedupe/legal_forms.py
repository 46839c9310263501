"""Legal-entity forms ("Inc", "GmbH", "S.p.A.", "株式会社"...) that say nothing about which company it is.

The term list is cleanco's maintained ``termdata`` (legal forms by type and by country) plus the few
forms it lacks. A handful of cleanco terms are ordinary words or markers that tell two companies apart
("UK", "Private"), so they are kept out.
"""

from __future__ import annotations

from collections.abc import Callable

from cleanco.termdata import terms_by_country, terms_by_type

EXTRA_TERMS = (
    "kk",
    "k.k.",
    "kabushiki kaisha",
    "kabushiki gaisha",
    "yugen kaisha",
    "godo kaisha",
    "bv",
    "spa",
    "sp z oo",
    "pty",
    "pty ltd",
    "pvt ltd",
    "se",
    "co ltd",
    "company limited",
    "incorporation",
    "corporated",
    "limited liability company",
    "public limited company",
    "publ",
)

EXCLUDED_TERMS = frozenset({"uk", "private", "unlimited", "ok", "at", "ba", "ec", "ei", "fa", "sp", "ud"})
"""cleanco terms that are words or distinguishing markers in English company names."""

CJK_LEGAL_FORMS = ("株式会社", "有限会社", "合同会社", "合资会社", "有限公司", "股份有限公司", "주식회사")
"""Forms written without spaces, removed wherever they appear in the name."""


def cleanco_terms() -> set[str]:
    """All legal-form terms in cleanco's term data, as cleanco spells them."""
    terms: set[str] = set()
    for group in (*terms_by_type.values(), *terms_by_country.values()):
        terms.update(term.strip() for term in group)
    return terms


class LegalForms:
    """Legal forms as token sequences, stripped from the end of a tokenized name."""

    def __init__(self, tokenize: Callable[[str], list[str]]) -> None:
        wanted = (cleanco_terms() | set(EXTRA_TERMS)) - EXCLUDED_TERMS
        self.sequences = frozenset(tuple(tokens) for tokens in map(tokenize, wanted) if tokens)
        endings: dict[str, list[list[str]]] = {}
        for sequence in sorted(self.sequences, key=len, reverse=True):
            endings.setdefault(sequence[-1], []).append(list(sequence))
        self._endings = endings
        """Legal forms by their last word, longest first: a name's last word picks the few to try."""

    def strip(self, tokens: list[str]) -> bool:
        """Remove legal forms from the end of ``tokens`` in place (the longest first), keeping at least one token.

        Returns:
            Whether anything was removed.
        """
        removed = False
        while len(tokens) > 1 and (endings := self._endings.get(tokens[-1])):
            for ending in endings:
                if len(ending) < len(tokens) and tokens[-len(ending) :] == ending:
                    del tokens[-len(ending) :]
                    removed = True
                    break
            else:
                return removed
        return removed
