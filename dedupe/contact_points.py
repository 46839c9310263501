"""Normalized website domains, phones, postcodes and street addresses: the evidence beside a name.

Each function returns ``None`` when the value cannot serve as evidence (empty, too short, or a
public mail domain that thousands of unrelated companies share).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from dedupe.normalize import fold_text

PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "ymail.com", "rocketmail.com",
        "outlook.com", "hotmail.com", "hotmail.co.uk", "hotmail.fr", "live.com", "msn.com", "aol.com",
        "icloud.com", "me.com", "mac.com", "protonmail.com", "proton.me", "gmx.com", "gmx.de", "gmx.net",
        "web.de", "mail.com", "mail.ru", "yandex.ru", "yandex.com", "qq.com", "163.com", "126.com",
        "zoho.com", "fastmail.com", "comcast.net", "att.net", "verizon.net", "sbcglobal.net", "orange.fr",
        "free.fr", "libero.it", "t-online.de", "btinternet.com", "naver.com", "hanmail.net",
    }
)  # fmt: skip
"""Mail providers whose domain says nothing about which company a record belongs to."""

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
_HOST_END = re.compile(r"[/?#:\s]")
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")
_EXTENSION = re.compile(r"(?i)\s*(?:x|ext\.?|extension|#)\s*\d+\s*$")
_NON_DIGITS = re.compile(r"\D")
_STREET_SEPARATORS = re.compile(r"[\W_]+")
_NANP_LENGTH = 10
_MIN_PHONE_DIGITS = 7
_ZIP_PLUS_FOUR_LENGTH = 9
_STREET_WORDS = {
    "street": "st", "avenue": "ave", "av": "ave", "road": "rd", "boulevard": "blvd", "drive": "dr",
    "place": "pl", "lane": "ln", "court": "ct", "parkway": "pkwy", "highway": "hwy", "suite": "ste",
    "north": "n", "south": "s", "east": "e", "west": "w", "square": "sq", "terrace": "ter",
}  # fmt: skip
_STREET_TYPES = frozenset({"st", "ave", "rd", "blvd", "dr", "pl", "ln", "ct", "pkwy", "hwy", "sq", "ter", "way", "ste"})
_STREET_KEY_WORDS = 3
_COUNTRY_ALIASES = {
    "usa": "us", "u s a": "us", "u s": "us", "united states": "us", "united states of america": "us", "america": "us",
    "uk": "gb", "u k": "gb", "united kingdom": "gb", "great britain": "gb", "england": "gb",
    "deutschland": "de", "germany": "de", "france": "fr", "italia": "it", "italy": "it", "espana": "es", "spain": "es",
    "nederland": "nl", "netherlands": "nl", "the netherlands": "nl", "canada": "ca", "australia": "au",
    "japan": "jp", "nippon": "jp", "sverige": "se", "sweden": "se", "polska": "pl", "poland": "pl",
}  # fmt: skip
_ORDINAL = re.compile(r"(\d+)(?:st|nd|rd|th)")


def normalize_domain(website_or_email: str | None) -> str | None:
    """The host of a website or email address: no scheme, ``www.``, port, path or trailing dot; IDN as ASCII.

    Anything that is not a plausible host name afterwards (no dot, stray characters) gives ``None``.
    """
    if not website_or_email:
        return None
    text = unicodedata.normalize("NFKC", website_or_email).strip().casefold()
    text = _SCHEME.sub("", text.rsplit("@", 1)[-1])
    host = _HOST_END.split(text, maxsplit=1)[0]
    while (trimmed := host.strip(".").removeprefix("www.")) != host:
        host = trimmed
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return host if "." in host and _HOST.fullmatch(host) else None


def evidence_domain(website_or_email: str | None) -> str | None:
    """The normalized domain, or ``None`` for a public mail domain that is no evidence of identity."""
    domain = normalize_domain(website_or_email)
    return None if domain in PUBLIC_MAIL_DOMAINS else domain


def normalize_phone(phone: str | None, country: str | None = None) -> str | None:
    """Digits of a phone number; NANP numbers (US, CA...) lose their leading 1 and any extension.

    Numbers shorter than seven digits are no evidence and give ``None``.
    """
    if not phone:
        return None
    phone = phone.strip()
    if "x" in phone or "X" in phone or "#" in phone:  # every extension marker has one; most phones have none
        phone = _EXTENSION.split(phone, maxsplit=1)[0]
    digits = _NON_DIGITS.sub("", phone)
    if len(digits) == _NANP_LENGTH + 1 and digits.startswith("1") and _is_nanp(country):
        digits = digits[1:]
    return digits if len(digits) >= _MIN_PHONE_DIGITS else None


@lru_cache(maxsize=1024)
def _is_nanp(country: str | None) -> bool:
    return country is None or fold_text(country).strip() in {"us", "usa", "united states", "ca", "canada"}


@lru_cache(maxsize=1024)
def normalize_country(country: str | None) -> str | None:
    """A country as a lower-case code where a common spelling is known ("USA", "United States" -> "us")."""
    if not country:
        return None
    name = " ".join(_STREET_SEPARATORS.sub(" ", fold_text(country)).split())
    return _COUNTRY_ALIASES.get(name, name) or None


def normalize_postcode(postcode: str | None) -> str | None:
    """Upper-case letters and digits of a postcode; a US ZIP+4 keeps its five-digit ZIP."""
    if not postcode:
        return None
    code = "".join(char for char in fold_text(postcode).upper() if char.isalnum())
    if len(code) == _ZIP_PLUS_FOUR_LENGTH and code.isdigit():
        code = code[:5]
    return code or None


@lru_cache(maxsize=1 << 16)
def _street_word(word: str) -> str:
    """A word of a street line, abbreviated ("Street" -> "st"), an ordinal without its suffix ("18th" -> "18")."""
    if short := _STREET_WORDS.get(word):
        return short
    ordinal = _ORDINAL.fullmatch(word) if word[0].isdigit() else None
    return ordinal[1] if ordinal else word


def normalize_street(street: str | None) -> str | None:
    """The identifying start of a street line: house number, direction and street name, abbreviated.

    "4217 West 18th Street" and "4217 W. 18 St., Chicago" both give "4217 w 18": ordinals lose their
    suffix, street types
    ("St", "Ave") are dropped because one system writes them and another leaves them out, and only
    the first three remaining words are kept, so a trailing suite or city does not split one address.
    """
    if not street:
        return None
    words = list(map(_street_word, _STREET_SEPARATORS.sub(" ", fold_text(street)).split()))
    kept = [word for word in words if word not in _STREET_TYPES] or words
    return " ".join(kept[:_STREET_KEY_WORDS]) or None
