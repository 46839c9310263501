import gc

import pytest

from dedupe import candidate as candidate_module
from dedupe import parallel
from dedupe.candidate import Candidate, build_profiles
from dedupe.matcher import MatchSettings, find_duplicates
from dedupe.score import Tier


def merged_groups(candidates: list[Candidate], tier: Tier | None = None) -> set[frozenset[str]]:
    result = find_duplicates(candidates)
    return {frozenset(m.account_ids) for m in result.merges if tier is None or m.tier is tier}


def accounts(*names: str, website: str | None = None, phone: str | None = None) -> list[Candidate]:
    return [Candidate(f"a{index}", name, website=website, phone=phone) for index, name in enumerate(names)]


def test_seed_acme_spellings_form_one_cluster() -> None:
    """The seed's four spellings of Acme Products are proposed as one merge."""
    candidates = accounts("Acme Products", "Acme Products, Inc.", "Acme Products, Inc", "Acme Products, Incorporated")
    assert merged_groups(candidates) == {frozenset({"a0", "a1", "a2", "a3"})}


def test_directions_never_merge() -> None:
    """"Bank of the West" and "Bank of the East" stay apart, even on the same website."""
    candidates = accounts("Bank of the West", "Bank of the East", website="bank.example.com")
    assert merged_groups(candidates) == set()


def test_roman_numerals_never_merge() -> None:
    """"Northwind II" and "Northwind III" stay apart, even with the same phone."""
    candidates = accounts("Northwind II", "Northwind III", "Northwind II Ltd", phone="312 555 0100")
    assert merged_groups(candidates) == {frozenset({"a0", "a2"})}


def test_generic_words_alone_do_not_match() -> None:
    """Names that share only generic words ("Consulting Group") are different companies."""
    candidates = accounts("Summit Consulting Group", "Peak Consulting Group", "Apex Consulting Group")
    assert merged_groups(candidates) == set()


def test_auto_tier_needs_independent_evidence() -> None:
    """Equal names with a shared domain merge automatically; equal names alone go to review."""
    with_domain = accounts("Acme Products", "ACME PRODUCTS LLC", website="https://www.acme.com")
    without = accounts("Acme Products", "ACME PRODUCTS LLC")
    assert merged_groups(with_domain, Tier.AUTO) == {frozenset({"a0", "a1"})}
    assert merged_groups(without, Tier.AUTO) == set()
    assert merged_groups(without, Tier.REVIEW) == {frozenset({"a0", "a1"})}


def test_public_mail_domain_is_not_evidence() -> None:
    """Two accounts on gmail.com are not auto-merged for sharing it."""
    assert merged_groups(accounts("Acme Products", "Acme Products Inc", website="gmail.com"), Tier.AUTO) == set()


def test_different_addresses_keep_namesakes_apart() -> None:
    """Same name in different cities is two companies."""
    candidates = [Candidate("a0", "Acme Plumbing", city="Boston"), Candidate("a1", "Acme Plumbing", city="Denver")]
    assert merged_groups(candidates) == set()


def test_typo_matches_for_review() -> None:
    """A transposed letter still finds its twin, for an admin to confirm."""
    assert merged_groups(accounts("Northwind Traders", "Northwind Tradres Inc")) == {frozenset({"a0", "a1"})}


def test_weak_links_do_not_chain() -> None:
    """A fuzzy name-only link between two clusters does not join them unless every member matches."""
    candidates = accounts("Zentrix Analytica", "Zentrix Analytic", "Zentrix Analyt", "Zentrix Analy")
    assert merged_groups(candidates) == {frozenset({"a0", "a1"}), frozenset({"a2", "a3"})}


def test_a_thousand_accounts_with_one_name_are_one_cluster_for_review() -> None:
    """An exact-name group of any size is one proposed merge, not a finding, however it is spelled."""
    spellings = ["KONINKLIJKE PHILIPS ELECTRONICS N.V.", "Koninklijke Philips Electronics N.V.",
                 "KONINKLIJKE PHILIPS ELECTRONICS, N.V."]  # fmt: skip
    candidates = accounts(*(spellings[i % 3] for i in range(1000)))
    result = find_duplicates(candidates, MatchSettings(max_cluster=30))
    assert [(len(m.account_ids), m.tier) for m in result.merges] == [(1000, Tier.REVIEW)]
    assert result.findings == []


def test_max_cluster_caps_only_what_merges_unattended() -> None:
    """An auto-tier cluster above max_cluster is still proposed, for review."""
    candidates = accounts(*["Acme Products Inc"] * 6, website="acme.com")
    assert [m.tier for m in find_duplicates(candidates, MatchSettings(max_cluster=5)).merges] == [Tier.REVIEW]
    assert [m.tier for m in find_duplicates(candidates, MatchSettings(max_cluster=6)).merges] == [Tier.AUTO]


def test_typo_and_suffix_variants_join_a_large_group_but_near_misses_do_not() -> None:
    """A typo of the name joins its 80-strong group; a name differing by a numeral or direction stays out."""
    names = ["Northwind Traders Ltd"] * 80 + ["Northwind Tradres", "Northwind Traders II", "Northwind Traders West"]
    result = find_duplicates(accounts(*names))
    assert [set(m.account_ids) for m in result.merges] == [{f"a{i}" for i in range(81)}]


def test_one_name_in_two_cities_is_two_clusters() -> None:
    """Equal names group by place: Boston's three and Denver's three never merge together."""
    candidates = [Candidate(f"a{i}", "Acme Plumbing", city="Boston" if i < 3 else "Denver") for i in range(6)]
    assert merged_groups(candidates) == {frozenset({"a0", "a1", "a2"}), frozenset({"a3", "a4", "a5"})}


def test_each_record_says_how_it_joined() -> None:
    """One line per record: the same name as another record, or the link that brought it in."""
    candidates = accounts("Northwind Traders", "NORTHWIND TRADERS LTD", "Northwind Tradres")
    (merge,) = find_duplicates(candidates).merges
    joined = merge.joined(candidates, "a0")
    assert joined["a0"] == "first record"
    assert joined["a1"] == 'same name as a0 ("northwind traders")'
    assert joined["a2"].startswith('similar name to a0 ("northwind tradres" ~ "northwind traders", score ')


def test_every_merge_explains_itself() -> None:
    """Each link names the rule, the normalized forms, the score and the evidence."""
    candidates = accounts("The Acme Products, Inc.", "ACME PRODUCTS", phone="(312) 555-0100")
    (merge,) = find_duplicates(candidates).merges
    assert merge.tier is Tier.AUTO
    assert merge.joined(candidates, "a0") == {
        "a0": "first record", "a1": 'same name as a0 ("acme products"); same phone 3125550100'
    }
    typo = accounts("Acme Products", "Acme Prodcts", phone="(312) 555-0100")
    assert find_duplicates(typo).merges[0].joined(typo, "a0")["a1"] == (
        'similar name to a0 ("acme prodcts" ~ "acme products", score 96, auto tier); same phone 3125550100'
    )


def test_forked_workers_find_the_same_merges(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scoring in two processes proposes exactly what one process does."""
    monkeypatch.setattr(parallel, "MIN_PER_WORKER", 2)
    monkeypatch.setattr(parallel, "PAIR_CHUNK", 3)
    names = ["Acme Products", "ACME PRODUCTS INC", "Northwind II", "Northwind II Ltd", "Zentrix Analytica",
             "Zentrix Analytic", "Bank of the West", "Bank of the East"]  # fmt: skip
    candidates = [Candidate(f"a{i}", name, phone="312 555 0100" if i < 2 else None) for i, name in enumerate(names)]
    serial = find_duplicates(candidates, MatchSettings(workers=1)).merges
    assert find_duplicates(candidates, MatchSettings(workers=2)).merges == serial
    assert len(serial) == 3


@pytest.mark.parametrize("workers", [2, 3])
def test_forked_normalizing_gives_the_same_profiles(monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    """Normalizing in forked workers gives the profiles one process gives, in the accounts' order."""
    monkeypatch.setattr(candidate_module, "MIN_TO_FORK", 2)
    candidates = [
        Candidate(f"a{i}", name, website=site, phone=phone, street=street, city=city, postcode=None, country=country)
        for i, (name, site, phone, street, city, country) in enumerate(
            [
                ("Acme Products, Inc.", "https://acme.com/", "+1 312 555 0100", "12 Main St", "Chicago", "USA"),
                ("Société Générale S.A.", None, None, None, "Paris", "France"),
                ("The Northwind II Group", "gmail.com", "555", "4217 West 18th Street", None, None),
                ("ACME PRODUCTS", "www.acme.com", "(312) 555-0100", "12 Main Street", "chicago", "US"),
                ("Müller & Söhne GmbH", "mueller.de", None, None, "Köln", "DE"),
            ]
            * 7
        )
    ]
    assert build_profiles(candidates, workers=workers) == build_profiles(candidates)


def test_roman_and_arabic_numerals_agree() -> None:
    """"Northwind II" and "Northwind 2" on one phone are one company; "Northwind 3" is not."""
    candidates = accounts("Northwind II", "Northwind 2", "Northwind 3", phone="312 555 0100")
    assert merged_groups(candidates) == {frozenset({"a0", "a1"})}


def test_house_number_in_a_name_is_not_a_marker() -> None:
    """A site named after its street number still matches the same organisation at that address."""
    candidates = [
        Candidate("a0", "Robertson Learning Center 2929", street="2929 W. 19th St."),
        Candidate("a1", "Robertson Learning Center", street="2929 West 19th Street"),
    ]
    assert merged_groups(candidates, Tier.AUTO) == {frozenset({"a0", "a1"})}


def test_street_address_in_a_name_is_not_a_marker_however_its_ordinal_is_written() -> None:
    """The ordinal of a street written in a name ("1155 W 81st") is no marker: the street line says "81"."""
    candidates = [
        Candidate("a0", "Henry Booth House Kids R First 1155 W 81st", street="1155 W 81st St", phone="773 783 8080"),
        Candidate("a1", "Henry Booth House Kids R First", street="1155 W. 81st Street", phone="773 783 8080"),
    ]
    assert merged_groups(candidates) == {frozenset({"a0", "a1"})}


def test_namesakes_do_not_chain_through_an_account_without_address() -> None:
    """An address-less "Acme Plumbing" joins the Boston one or the Denver one, never both."""
    candidates = [
        Candidate("a0", "Acme Plumbing", city="Boston"),
        Candidate("a1", "Acme Plumbing Inc"),
        Candidate("a2", "Acme Plumbing LLC", city="Denver"),
    ]
    groups = merged_groups(candidates)
    assert len(groups) == 1
    assert frozenset({"a0", "a2"}) not in groups and len(next(iter(groups))) == 2


def test_garbage_collector_runs_again_after_matching() -> None:
    """Matching pauses the cyclic collector only while it runs."""
    find_duplicates(accounts("Acme Products", "Acme Products Inc"))
    assert gc.isenabled()


def test_namesakes_in_different_countries_stay_apart() -> None:
    """The same name registered in Sweden and in Japan is two legal entities."""
    candidates = [
        Candidate("a0", "Rafinka Lotavpha AB", country="SE"),
        Candidate("a1", "Rafinka Lotavpha K.K.", country="Japan"),
    ]
    assert merged_groups(candidates) == set()


def test_same_name_with_different_phones_and_nothing_else_is_not_proposed() -> None:
    """Namesakes whose phones disagree, with nothing else shared, are not queued; without phones they are."""
    with_phones = [
        Candidate("a0", "Nakamura Rossar Holdings", phone="302 975 9959"),
        Candidate("a1", "Nakamura Rossar Holdings KK", phone="930 761 0828"),
    ]
    assert merged_groups(with_phones) == set()
    assert merged_groups(accounts("Nakamura Rossar Holdings", "Nakamura Rossar Holdings KK")) == {
        frozenset({"a0", "a1"})
    }


def test_generic_name_needs_address_and_phone() -> None:
    """A name of generic words ("Community Learning Center") is one site only when street and phone agree."""
    both = [
        Candidate(f"a{i}", "Community Learning Center", street="10612 S Wentworth Ave", phone="773 928 4104")
        for i in range(2)
    ]
    street_only = [Candidate(f"a{i}", "Community Learning Center", street="10612 S Wentworth Ave") for i in range(2)]
    assert merged_groups(both) == {frozenset({"a0", "a1"})}
    assert merged_groups(street_only) == set()


def test_shared_words_count_with_a_typo() -> None:
    """Shared distinctive words are counted with a typo allowed ("Lots of Love", "Lotts of Love")."""
    candidates = [
        Candidate("a0", "Lots of Love Preschool Academy", street="1139 W 79th St"),
        Candidate("a1", "Chicago Youth Centers - Lotts of Love", street="1139 W. 79th Street"),
    ]
    assert merged_groups(candidates, Tier.REVIEW) == {frozenset({"a0", "a1"})}


def roosevelt(account_id: str, postcode: str | None, phone: str) -> Candidate:
    return Candidate(account_id, "Easter Seals Gilchrist Marchman", street="1001 W Roosevelt Rd", city="Chicago",
                     postcode=postcode, phone=phone)


def test_evidence_does_not_chain_accounts_in_two_postcodes_through_one_without() -> None:
    """An account with no postcode links to one in 60608 and one in 81559: it joins the one it matches best."""
    candidates = [
        roosevelt("a0", None, "312 939 5115"),
        roosevelt("a1", "60608", "312 939 5115"),
        roosevelt("a2", "81559", "312 492 7402"),
    ]
    assert merged_groups(candidates) == {frozenset({"a0", "a1"})}


def test_evidence_still_chains_through_an_account_without_postcode() -> None:
    """Accounts whose known postcodes agree still join through one that has none."""
    candidates = [
        roosevelt("a0", None, "312 939 5115"),
        roosevelt("a1", "60608", "312 939 5115"),
        roosevelt("a2", "60608", "312 492 7402"),
        roosevelt("a3", None, "312 492 7402"),
    ]
    assert merged_groups(candidates) == {frozenset({"a0", "a1", "a2", "a3"})}


def test_an_account_held_apart_by_place_is_in_one_proposal_only() -> None:
    """An account linked to one in 60608 (auto) and one in 81559 (review, stronger) is proposed once."""
    candidates = [
        Candidate("a", "Acme Learning Center", street="4910 S King Dr", city="Chicago", phone="312 555 0100",
                  website="acme.org"),
        Candidate("b", "Acme Learning Center", street="4910 S King Dr", city="Chicago", postcode="60608",
                  phone="312 555 0199"),
        Candidate("c", "Acme Learning Center", street="4910 S Martin Luther King Dr", city="Chicago",
                  postcode="81559", phone="312 555 0100", website="acme.org"),
    ]
    proposed = [m.account_ids for m in find_duplicates(candidates).merges]
    assert proposed == [("a", "c")]
