"""Company-name normalization: one key for "The Acme Products, Inc." and "ACME PRODUCTS".

The key folds Unicode (NFKC, accents off Latin letters, case), drops punctuation, spells ``&`` as
"and", drops a leading "The", spells common abbreviations out ("Intl" -> "international", "Centre"
-> "center") and strips legal-entity forms from the end (see ``dedupe.legal_forms``).

What exports append to a name is not the name: a bracket ("SKF AB (publ)", "Acme (Class A)"), a
"c/o ..." or "Attn ..." tail, a trailing segment after a comma or a dash that names a department
("- Research Department", ", Patent Dept."), and a segment after the legal form ("Sika AG, Baar":
a place, since the name ended at its legal form). A segment that is none of these stays ("Western
Digital, San Jose": without a legal form before it, a place cannot be told from a name).
Normalizing a key again gives the same key.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from itertools import compress

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

_INITIAL_DOT = re.compile(r"\.(?<=\b[^\W\d_]\.)")
"""A dot after a single letter; the dot comes first, so the regex engine jumps from dot to dot."""
_APOSTROPHES = re.compile("['\u2019`\u00b4]")
_WORDS = re.compile(r"[^\W_]+")
_ASCII_SEPARATORS: dict[int, str | None] = {
    **{code: " " for code in range(128) if not chr(code).isalnum()},
    **{ord("'"): None, ord("`"): None},
}
"""Folded ASCII text to words and spaces: apostrophes go ("O'Brien" -> "obrien"), other punctuation splits."""
_ASCII_LINES = {**_ASCII_SEPARATORS, ord("\n"): "\n"}
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
        return folded.translate(_ASCII_SEPARATORS).split()
    return _WORDS.findall(_APOSTROPHES.sub("", folded))


_LEGAL_FORMS = LegalForms(tokenize)
_SPELLED = frozenset(SPELLINGS)
DEPARTMENT_WORDS = frozenset({
    "dept", "department", "departments", "division", "research", "laboratory", "purchasing", "procurement",
    "accounts", "payable", "receivable", "headquarters", "hq", "legal", "patent", "patents", "billing", "treasury",
})  # fmt: skip
"""Words that make a trailing segment a department of the company rather than part of its name."""
_BRACKET = re.compile(r"\([^)]*(?:\)|$)")
_CARE_OF = re.compile(r"\s(?:c/o|attn\b:?)", re.IGNORECASE)
_SEPARATORS = (",", " - ", " \u2013 ", " / ")


def _last_separator(text: str) -> tuple[int, str] | None:
    """Where the last comma or spaced dash (or slash) of ``text`` starts, and which it is."""
    found = max((text.rfind(separator), separator) for separator in _SEPARATORS)
    return found if found[0] >= 0 else None


@lru_cache(maxsize=1 << 16)
def _tail_kind(tail: str) -> str:
    """A name's last segment: a ``department``, a ``legal`` form, or ``other`` text (tails repeat: cached)."""
    tokens = tokenize(tail)
    if not DEPARTMENT_WORDS.isdisjoint(tokens):
        return "department"
    return "legal" if tuple(tokens) in _LEGAL_FORMS.sequences else "other"


def _appended_segment(head: str, separator: str, tail: str) -> bool:
    """Whether ``tail`` (after ``head``'s last separator) is a department, or a place after a legal form and a comma."""
    kind = _tail_kind(tail.strip())
    if kind != "other":
        return kind == "department"
    tokens = tokenize(head)
    return separator == "," and len(tokens) > 1 and _LEGAL_FORMS.strip(tokens)


def strip_appended(name: str) -> str:
    """``name`` without brackets, a "c/o"/"Attn" tail, and trailing department or after-legal-form segments."""
    if not ("," in name or "(" in name or "/" in name or " - " in name or " \u2013 " in name or "ttn" in name
            or "TTN" in name):
        return name
    stripped = _BRACKET.sub(" ", name) if "(" in name else name
    if "/" in stripped or "ttn" in stripped or "TTN" in stripped:
        stripped = _CARE_OF.split(stripped, maxsplit=1)[0]
    while (found := _last_separator(stripped)) and _appended_segment(
        stripped[: found[0]], found[1], stripped[found[0] + len(found[1]) :]
    ):
        stripped = stripped[: found[0]]
    return stripped if stripped == name or any(char.isalnum() for char in stripped) else name


def _identifying(tokens: list[str]) -> list[str]:
    """The words that identify a company, in order: no legal form, no leading "The"."""
    if not _SPELLED.isdisjoint(tokens):
        tokens = [SPELLINGS.get(token, token) for token in tokens]
    while len(tokens) > 1:  # a leading "The" first, then legal forms, until neither is left
        if tokens[0] == "the":
            del tokens[0]
        elif not _LEGAL_FORMS.strip(tokens):
            break
    return tokens


def normalize_name(name: str) -> str:
    """The comparison key of a company name: its identifying words joined by single spaces."""
    return " ".join(_identifying(tokenize(strip_appended(name))))


def normalize_names(names: Sequence[str]) -> list[str]:
    """``normalize_name`` of each name, the plain ASCII ones folded and split together in one text.

    A million names cost a few passes over one long string instead of a million small ones; names
    with other characters (or a line break) take ``tokenize`` one by one.
    """
    names = [strip_appended(name) for name in names]
    plain = [name.isascii() and name.isprintable() for name in names]
    text = "\n".join(compress(names, plain)).lower().replace("&", " and ")
    lines = iter(_INITIAL_DOT.sub("", text).translate(_ASCII_LINES).split("\n"))
    return [
        " ".join(_identifying(next(lines).split() if is_plain else tokenize(name)))
        for name, is_plain in zip(names, plain, strict=True)
    ]
