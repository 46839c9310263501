import pytest
from hypothesis import given
from hypothesis import strategies as st

from dedupe.contact_points import (
    evidence_domain,
    normalize_country,
    normalize_domain,
    normalize_phone,
    normalize_postcode,
    normalize_street,
)

HOSTS = st.from_regex(r"[a-z0-9]{1,12}(\.[a-z0-9]{1,8}){1,2}", fullmatch=True)


@pytest.mark.parametrize(
    "written",
    ["acme.com", "https://www.acme.com", "HTTP://WWW.ACME.COM/about?x=1", "acme.com:8443/", "a@Acme.com", "acme.com."],
)
def test_website_and_email_spellings_give_one_domain(written: str) -> None:
    """Scheme, www., port, path, case, trailing dot and an email's local part are ignored."""
    assert normalize_domain(written) == "acme.com"


def test_international_domain_becomes_ascii() -> None:
    """An IDN and its punycode form are the same domain."""
    assert normalize_domain("https://Bücher.de/shop") == normalize_domain("xn--bcher-kva.de") == "xn--bcher-kva.de"


@pytest.mark.parametrize("written", ["gmail.com", "jane@GMAIL.com", "https://outlook.com", "x@hotmail.com"])
def test_public_mail_domains_are_no_evidence(written: str) -> None:
    """A public mail provider's domain never counts as a shared company domain."""
    assert evidence_domain(written) is None


@given(HOSTS, st.sampled_from(["", "https://", "http://www.", "www.www."]), st.sampled_from(["", "/", "/a?q=1", ":80"]))
def test_domain_normalization_is_idempotent(host: str, scheme: str, path: str) -> None:
    """Normalizing a normalized domain changes nothing."""
    once = normalize_domain(f"{scheme}{host}{path}")
    assert once is None or normalize_domain(once) == once


@given(st.text())
def test_domain_normalization_is_idempotent_on_any_text(text: str) -> None:
    """Whatever a rep typed in the website field, normalizing twice equals normalizing once."""
    once = normalize_domain(text)
    assert once is None or normalize_domain(once) == once


@pytest.mark.parametrize(
    ("written", "country"),
    [("(312) 555-0100", "US"), ("+1 312 555 0100", None), ("312.555.0100 ext. 12", "USA"), ("1-312-555-0100", "CA")],
)
def test_nanp_phone_formats_agree(written: str, country: str | None) -> None:
    """NANP numbers lose punctuation, the leading 1 and extensions."""
    assert normalize_phone(written, country) == "3125550100"


def test_short_phone_is_no_evidence() -> None:
    """A number too short to identify anyone is dropped."""
    assert normalize_phone("555-01") is None


def test_postcode_and_street_spellings_agree() -> None:
    """ZIP+4 keeps its ZIP, and street abbreviations and types are written one way."""
    assert normalize_postcode("60302-1234") == normalize_postcode("60302") == "60302"
    assert normalize_postcode("sw1a 1aa") == "SW1A1AA"
    assert normalize_street("4217 West 18th Street") == normalize_street("4217 W. 18Th St.") == "4217 w 18"


def test_country_spellings_agree() -> None:
    """"USA", "United States" and "us" are one country; Japan is another."""
    assert normalize_country("USA") == normalize_country("United States") == normalize_country(" us ") == "us"
    assert normalize_country("Japan") == "jp"
