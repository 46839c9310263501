from dedupe.person_match import find_people_duplicates
from dedupe.person_score import Person, profile, score_people
from dedupe.score import Tier


def pair(left: Person, right: Person) -> str | None:
    match = score_people(profile(left), profile(right), (0, 1))
    return None if match is None else f"{match.tier.value}: {match.sentence()}"


def test_a_nickname_with_the_same_email_is_one_person_merged_unattended() -> None:
    """Bob Smith and Robert Smith at one email address are the same person, auto tier, and the reason says why."""
    found = pair(Person("1", "Bob Smith", email="bob.smith@acme.com"),
                 Person("2", "Robert Smith", email="Bob.Smith+crm@ACME.com"))
    assert found is not None and found.startswith("auto")
    assert "nickname" in found and "email bob.smith@acme.com" in found


def test_an_initial_with_the_same_phone_and_company_goes_to_review() -> None:
    """J. Smith and John Smith sharing a phone at one company are proposed for an admin, not merged alone."""
    found = pair(Person("1", "J. Smith", phone="(312) 555-0100", company="Acme Inc."),
                 Person("2", "John Smith", phone="312.555.0100", company="ACME"))
    assert found is not None and found.startswith("review") and "initial" in found


def test_household_members_sharing_address_and_phone_are_not_matched() -> None:
    """John and Mary Smith at one address and phone are two people."""
    assert pair(Person("1", "John Smith", phone="3125550100", street="1 Main St", postcode="60601"),
                Person("2", "Mary Smith", phone="3125550100", street="1 Main Street", postcode="60601")) is None


def test_a_role_mailbox_is_no_evidence() -> None:
    """Two people writing from info@ are not one person because of it."""
    assert pair(Person("1", "Ann Lee", email="info@acme.com"), Person("2", "Tom Baker", email="info@acme.com")) is None
    found = pair(Person("1", "Ann Lee", email="info@acme.com"), Person("2", "Ann Lee", email="info@acme.com"))
    assert found is not None and found.startswith("review")


def test_names_written_the_other_way_round_match() -> None:
    """"Campbell Joshua" (fields swapped on entry) is Joshua Campbell at the same address."""
    found = pair(Person("1", "Campbell Joshua", street="12 Ballumbir St", postcode="3189", birthdate="19801008"),
                 Person("2", "Joshua Campbell", street="12 Ballumbir Street", postcode="3189", birthdate="19801008"))
    assert found is not None and "other way round" in found


def test_a_new_family_name_needs_a_same_birth_date_or_email() -> None:
    """Holly Webb and Holly Bishop match only when a birth date (or an email) vouches for them."""
    webb = Person("1", "Holly Webb", street="1 Vansittart Cres", postcode="3047", city="Coomallo")
    assert pair(webb, Person("2", "Holly Bishop", street="1 Vansittart Cres", postcode="3047", city="Coomallo")) is None
    found = pair(Person("1", "Holly Webb", street="1 Vansittart Cres", postcode="3047", birthdate="1936-11-03"),
                 Person("2", "Holly Bishop", street="1 Vansittart Cres", postcode="3047", birthdate="19361103"))
    assert found is not None and "family names webb / bishop" in found


def test_clusters_name_every_link_and_keep_weak_links_from_chaining() -> None:
    """Three records of one person form one auto cluster; a same-name stranger with nothing shared stays out."""
    people = [
        Person("a", "Robert Smith", email="rs@acme.com", phone="3125550100"),
        Person("b", "Bob Smith", email="rs@acme.com"),
        Person("c", "Robert Smith", phone="312-555-0100"),
        Person("d", "Robert Smith", email="bob@other.org", phone="2125550199", company="Other"),
    ]
    result = find_people_duplicates(people)
    auto = [m for m in result.merges if m.tier is Tier.AUTO]
    assert [m.person_ids for m in auto] == [("a", "b", "c")]
    assert all("d" not in m.person_ids for m in result.merges)
    assert len(auto[0].reasons(people)) >= 2


def test_a_record_matching_most_of_a_persons_records_by_name_joins_them() -> None:
    """Robert Smith of Boston matches two of the three records of one Robert Smith by name: he joins for review."""
    people = [
        Person("a", "Robert Smith", email="rs@acme.com", city="Boston"),
        Person("b", "Robert Smith", email="rs@acme.com"),
        Person("c", "Bob Smith", email="rs@acme.com", phone="3125550100"),
        Person("d", "Robert Smith", city="Boston", phone="2125550199"),
    ]
    (merge,) = [m for m in find_people_duplicates(people).merges if m.tier is Tier.REVIEW]
    assert merge.person_ids == ("a", "b", "c", "d")


def test_namesakes_do_not_join_through_a_record_with_no_city() -> None:
    """A John Smith with no city matches the Boston one and the Denver one by name: he joins one, never both."""
    people = [
        Person("a", "John Smith", city="Boston"),
        Person("b", "John Smith"),
        Person("c", "John Smith", city="Denver"),
    ]
    (merge,) = find_people_duplicates(people).merges
    assert len(merge.person_ids) == 2 and {"a", "c"} - set(merge.person_ids)
