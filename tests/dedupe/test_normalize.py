import pytest
from hypothesis import given
from hypothesis import strategies as st

from dedupe.legal_forms import cleanco_terms
from dedupe.normalize import DEPARTMENT_WORDS, normalize_name, normalize_names

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzéüøñ", min_size=3, max_size=10).filter(
    lambda word: normalize_name(word) == word and word not in {"the", "and"}
)
NAME_WORDS = st.lists(WORD, min_size=1, max_size=4)
SEGMENT_WORDS = st.lists(WORD.filter(lambda word: word not in DEPARTMENT_WORDS), min_size=1, max_size=4)
"""Words that may stand after a spaced dash: a department word there is a department of the company, by design
("Acme - Accounts Payable"); Hypothesis draws them from the module's own constants."""
SUFFIXES = st.sampled_from(
    ["Inc", "Inc.", "Incorporated", "Corp", "Corporation", "Co", "LLC", "L.L.C.", "Ltd", "Limited", "GmbH", "S.A.",
     "SA", "PLC", "Pty Ltd", "AG", "BV", "B.V.", "SAS", "S.p.A.", "SRL", "KK", "K.K.", "Kabushiki Kaisha", "Oy",
     "AB", "AS", "NV", "Sp. z o.o.", "GmbH & Co. KG"]
)  # fmt: skip
ANY_NAME = st.text(
    alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Nd", "Po", "Pd", "Zs", "Sm"), max_codepoint=0x2FF)
)


@given(ANY_NAME)
def test_normalization_is_idempotent(name: str) -> None:
    """Normalizing an already normalized name changes nothing."""
    assert normalize_name(normalize_name(name)) == normalize_name(name)


@given(NAME_WORDS, SUFFIXES, st.sampled_from([" ", ", "]))
def test_legal_suffix_does_not_change_the_key(words: list[str], suffix: str, separator: str) -> None:
    """A legal-entity suffix, with or without a comma, leaves the key unchanged."""
    name = " ".join(words)
    assert normalize_name(f"{name}{separator}{suffix}") == normalize_name(name)


@given(SEGMENT_WORDS, st.booleans())
def test_case_punctuation_and_leading_the_do_not_change_the_key(words: list[str], upper: bool) -> None:
    """Upper case, stray punctuation and a leading "The" give the same key."""
    name = " ".join(words)
    variant = "The " + " - ".join(word.upper() if upper else word.title() for word in words) + "."
    assert normalize_name(variant) == normalize_name(name)


@given(WORD, WORD)
def test_ampersand_and_the_word_and_are_the_same(left: str, right: str) -> None:
    """"A & B" and "A and B" normalize alike."""
    assert normalize_name(f"{left} & {right}") == normalize_name(f"{left} and {right}")


def test_seed_spellings_of_acme_share_one_key() -> None:
    """The four spellings of Acme Products from the seed document are one key."""
    names = ["Acme Products", "Acme Products, Inc.", "Acme Products, Inc", "Acme Products, Incorporated"]
    assert {normalize_name(name) for name in names} == {"acme products"}


def test_accents_width_and_japanese_legal_forms_are_folded() -> None:
    """Accents, full-width letters and 株式会社 in front or behind do not split one company in two."""
    assert normalize_name("Société Générale S.A.") == normalize_name("SOCIETE GENERALE")
    assert normalize_name("\uff21\uff43\uff4d\uff45") == "acme"  # full-width "Acme"
    assert normalize_name("株式会社トヨタ") == normalize_name("トヨタ株式会社") == "トヨタ"


def test_a_name_made_only_of_a_legal_form_keeps_it() -> None:
    """Stripping never empties a name: "Company" alone stays "company"."""
    assert normalize_name("Company") == "company"


def test_every_usable_cleanco_term_is_stripped() -> None:
    """Each cleanco legal form (except the excluded ordinary words) is removed from the end of a name."""
    from dedupe.legal_forms import EXCLUDED_TERMS

    kept = [term for term in cleanco_terms() - EXCLUDED_TERMS if normalize_name(f"Zyxwv {term}") != "zyxwv"]
    assert kept == []


@given(st.lists(st.one_of(ANY_NAME, st.text()), max_size=6))
def test_names_normalized_together_get_the_keys_they_get_alone(names: list[str]) -> None:
    """The batch normalizer (one text for all ASCII names) gives each name its own key."""
    assert normalize_names(names) == [normalize_name(name) for name in names]


@pytest.mark.parametrize(("name", "key"), [
    ("SKF AB (publ)", "skf"),
    ("Clearway Energy, Inc. (Class A)", "clearway energy"),
    ("Sika AG, Baar", "sika"),
    ("Toyota Motor Corporation, Toyota City", "toyota motor"),
    ("Kajima Construction - Research Department", "kajima construction"),
    ("Coterra c/o Accounts Payable", "coterra"),
    ("Lennar Attn: Legal Department", "lennar"),
    ("Acme Products, Patent Dept.", "acme products"),
    ("Legal & General Group Plc", "legal and general group"),
    ("Marcy Newberry Association - Newberry Center", "marcy newberry association newberry center"),
    ("Western Digital, San Jose", "western digital san jose"),
])  # fmt: skip
def test_departments_care_of_brackets_and_a_place_after_the_legal_form_are_not_the_name(name: str, key: str) -> None:
    """What exports append to a name (a department, "c/o", a bracket, a city after the legal form) is dropped."""
    assert normalize_name(name) == key
    assert normalize_names([name, "Acme"]) == [key, "acme"]
