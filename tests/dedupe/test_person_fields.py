from hypothesis import given
from hypothesis import strategies as st

from dedupe.person_fields import (
    given_forms,
    initial_agrees,
    is_role_email,
    nickname_of,
    normalize_email,
    person_name,
)

WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzé", min_size=2, max_size=10).filter(
    lambda w: w not in {"mr", "ms", "dr", "jr", "sr", "ii", "iv", "md"})
LOCAL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=12).filter(
    lambda s: s.strip(".") == s and ".." not in s)
DOMAIN = st.sampled_from(["acme.com", "example.org", "mail.acme.co.uk", "gmail.com"])


@given(WORDS, WORDS)
def test_family_first_with_a_comma_reads_as_the_same_name(first: str, last: str) -> None:
    """"Smith, John" and "John Smith" are one name."""
    assert person_name(f"{last}, {first}") == person_name(f"{first} {last}")


@given(WORDS, WORDS)
def test_case_titles_and_suffixes_do_not_change_a_name(first: str, last: str) -> None:
    """"DR. JOHN SMITH JR." is John Smith."""
    plain = person_name(f"{first} {last}")
    assert person_name(f"Dr. {first.upper()} {last.title()} Jr.") == plain
    assert (plain.given, plain.family) == (first, last) or "é" in first + last


@given(WORDS)
def test_a_lone_word_is_a_family_name(word: str) -> None:
    """A record with only a last name (a CRM's required field) has no given name."""
    name = person_name(word)
    assert name.given is None and name.family is not None


@given(LOCAL, DOMAIN)
def test_email_normalization_is_idempotent_and_ignores_case(local: str, domain: str) -> None:
    """Normalizing twice changes nothing, and upper case normalizes alike."""
    once = normalize_email(f"{local}@{domain}")
    assert once is None or normalize_email(once) == once
    assert normalize_email(f"{local}@{domain}".upper()) == once


@given(LOCAL, st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8))
def test_a_plus_tag_is_one_mailbox(local: str, tag: str) -> None:
    """jo+news@acme.com is jo@acme.com."""
    assert normalize_email(f"{local}+{tag}@acme.com") == normalize_email(f"{local}@acme.com")


def test_gmail_dots_and_display_names_do_not_count() -> None:
    """Gmail ignores dots; a display name is not part of the address; junk is no address."""
    assert normalize_email("John Smith <J.Smith@GoogleMail.com>") == "jsmith@gmail.com"
    assert normalize_email("j.smith@acme.com") == "j.smith@acme.com"
    assert normalize_email("not an address") is None
    assert normalize_email("@acme.com") is None


@given(st.sampled_from(sorted({"bob", "robert", "bill", "william", "peggy", "margaret", "al", "alan", "jo"})),
       st.sampled_from(sorted({"bob", "robert", "bill", "will", "margaret", "alexander", "alan"})))
def test_nicknames_agree_both_ways(left: str, right: str) -> None:
    """Nickname agreement is symmetric, and a name is never its own nickname."""
    assert nickname_of(left, right) == nickname_of(right, left)
    assert not nickname_of(left, left)
    assert left in given_forms(left)


def test_known_nicknames_initials_and_role_mailboxes() -> None:
    """Bob is Robert, Bill and Will are both William, J agrees with John; info@ is a role mailbox."""
    assert nickname_of("bob", "robert") and nickname_of("bill", "will")
    assert not nickname_of("bob", "william")
    assert initial_agrees("j", "john") and not initial_agrees("j", "mary") and not initial_agrees("jo", "john")
    assert is_role_email("info@acme.com") and not is_role_email("jo@acme.com") and not is_role_email(None)
