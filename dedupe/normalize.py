"""Company-name normalization: one key for "The Acme Products, Inc." and "ACME PRODUCTS".

The key folds Unicode (NFKC, accents off Latin letters, case), drops punctuation, spells ``&`` as
"and", drops a leading "The", spells common abbreviations out ("Intl" -> "international", "Centre"
-> "center") and strips legal-entity forms from the end (see ``dedupe.legal_forms``).
Normalizing a key again gives the same key.
"""

from __future__ import annotations

import re
import unicodedata

from cleanco.non_nfkd_map import NON_NFKD_MAP

from dedupe.legal_forms import CJK_LEGAL_FORMS, LegalForms

SPELLINGS = {
    "centre": "center",
    "ctr": "center",
    "intl": "international",
    "int'l": "international",
    "natl": "national",
    "mfg": "manufacturing",
    "svcs": "services",
    "svc": "service",
    "bros": "brothers",
    "assoc": "association",
    "assn": "association",
    "dept": "department",
    "labs": "laboratories",
    "lab": "laboratory",
    "tech": "technology",
    "technologies": "technology",
    "mgmt": "management",
    "univ": "university",
    "acad": "academy",
}
"""Abbreviations and spelling variants written out one way; no value is also a key."""

_INITIAL_DOT = re.compile(r"(?<=\b[^\W\d_])\.")
_APOSTROPHES = re.compile("['\u2019`\u00b4]")
_ASCII_WORDS = re.compile(r"[a-z0-9]+")
_WORDS = re.compile(r"[^\W_]+")
_FOLD_TABLE: dict[int, str | None] = {
    **{mark: None for mark in range(0x0300, 0x0370)},
    **{ord(char): plain for char, plain in NON_NFKD_MAP.items()},
}
"""Accents (combining marks of Latin, Greek and Cyrillic) removed; letters NFKD cannot split mapped ("ø" -> "o")."""


def fold_text(text: str) -> str:
    """Unicode-fold ``text``: NFKC, case-folded, accents removed, ``&`` as "and"."""
    if text.isascii():
        return text.lower().replace("&", " and ")
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    return unicodedata.normalize("NFKC", decomposed.translate(_FOLD_TABLE)).casefold().replace("&", " and ")


def tokenize(text: str) -> list[str]:
    """Split folded text into words; apostrophes go, dots after single letters join initials ("S.p.A." -> "spa")."""
    if not text.isascii():
        for form in CJK_LEGAL_FORMS:
            text = text.replace(form, " ")
    folded = fold_text(text)
    if "." in folded:
        folded = _INITIAL_DOT.sub("", folded)
    if folded.isascii():
        return _ASCII_WORDS.findall(folded.replace("'", "").replace("`", ""))
    return _WORDS.findall(_APOSTROPHES.sub("", folded))


_LEGAL_FORMS = LegalForms(tokenize)


def name_tokens(name: str) -> tuple[str, ...]:
    """The words that identify a company, in order: no legal form, no leading "The"."""
    tokens = [SPELLINGS.get(token, token) for token in tokenize(name)]
    changed = True
    while changed:
        changed = False
        while len(tokens) > 1 and tokens[0] == "the":
            del tokens[0]
            changed = True
        changed = _LEGAL_FORMS.strip(tokens) or changed
    return tuple(tokens)


def normalize_name(name: str) -> str:
    """The comparison key of a company name: its identifying words joined by single spaces."""
    return " ".join(name_tokens(name))
