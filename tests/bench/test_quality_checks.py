from bench.quality_checks import false_positives, marker_violations, unsupported_auto_links
from dedupe.candidate import Candidate, build_profiles
from dedupe.matcher import ProposedMerge
from dedupe.score import Match, MatchRule, Tier


def test_checks_count_what_the_guards_forbid() -> None:
    """A pair that differs by a direction, and a name-only link inside an auto merge, are both counted."""
    profiles = build_profiles([Candidate("a0", "Bank of the West"), Candidate("a1", "Bank of the East")])
    name_only = Match(0, 1, MatchRule.SAME_NAME, 100.0, "acme", "acme", ())
    assert marker_violations([(0, 1)], profiles) == 1
    assert unsupported_auto_links([ProposedMerge(Tier.AUTO, ("a0", "a1"), (name_only,))]) == 1
    assert unsupported_auto_links([ProposedMerge(Tier.REVIEW, ("a0", "a1"), (name_only,))]) == 0


def test_false_positives_count_shared_street_phone_and_name() -> None:
    """Two records with one name, street and phone count under each; a stranger under none."""
    profiles = build_profiles(
        [
            Candidate("a0", "Small Stride Academy", street="10317 S Western Ave", phone="773 239 0040"),
            Candidate("a1", "Small Stride Academy", street="10317 S. Western", phone="(773) 239-0040"),
            Candidate("a2", "Zentrix Analytica", street="1 Main St", phone="312 555 0100"),
        ]
    )
    found = false_positives([(0, 1), (0, 2)], profiles)
    assert (found.pairs, found.street, found.phone, found.name) == (2, 1, 1, 1)
