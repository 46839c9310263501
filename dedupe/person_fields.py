"""Person fields normalized for matching: names with nicknames and initials, email addresses.

A person's name is split into given and family name ("Smith, John" and "Dr. John A. Smith Jr."
both give ``john`` / ``smith``); a given name also stands for the formal names its nickname
shortens ("Bob" -> robert, "Peggy" -> margaret); a single letter is an initial that agrees with
any given name starting with it. Emails lose case, a ``+tag`` and Gmail's dots; a role address
(``info@``, ``sales@``) is kept but is no evidence that two records are one person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from dedupe.contact_points import normalize_domain
from dedupe.normalize import fold_text

_NICKNAMES: dict[str, tuple[str, ...]] = {
    "abby": ("abigail",), "al": ("albert", "alan", "alfred", "alexander"), "alex": ("alexander", "alexandra"),
    "alf": ("alfred",), "andy": ("andrew",), "drew": ("andrew",), "angie": ("angela",), "annie": ("ann", "anne"),
    "art": ("arthur",), "barb": ("barbara",), "becky": ("rebecca",), "becca": ("rebecca",), "ben": ("benjamin",),
    "benny": ("benjamin",), "bert": ("albert", "herbert", "robert"), "beth": ("elizabeth",), "betty": ("elizabeth",),
    "bill": ("william",), "billy": ("william",), "bob": ("robert",), "bobby": ("robert",), "brad": ("bradley",),
    "cathy": ("catherine", "cathryn"), "kate": ("katherine", "catherine"), "katie": ("katherine", "catherine"),
    "kathy": ("katherine", "kathleen"), "charlie": ("charles",), "chuck": ("charles",), "chas": ("charles",),
    "chris": ("christopher", "christine", "christina"), "cindy": ("cynthia",), "dan": ("daniel",),
    "danny": ("daniel",), "dave": ("david",), "davy": ("david",), "deb": ("deborah",), "debbie": ("deborah",),
    "dick": ("richard",), "rick": ("richard", "frederick"), "ricky": ("richard",), "rich": ("richard",),
    "don": ("donald",), "doug": ("douglas",), "ed": ("edward", "edwin", "edmund"), "eddie": ("edward",),
    "ted": ("edward", "theodore"), "ned": ("edward",), "fred": ("frederick", "alfred"), "freddie": ("frederick",),
    "frank": ("francis", "franklin"), "gabe": ("gabriel",), "gene": ("eugene",), "greg": ("gregory",),
    "hank": ("henry",), "harry": ("henry", "harold"), "jack": ("john",), "johnny": ("john",), "jon": ("jonathan",),
    "jake": ("jacob",), "jim": ("james",), "jimmy": ("james",), "jamie": ("james",), "jeff": ("jeffrey",),
    "jen": ("jennifer",), "jenny": ("jennifer",), "jerry": ("gerald", "jerome"), "jess": ("jessica",),
    "jessie": ("jessica",), "joe": ("joseph",), "joey": ("joseph",), "josh": ("joshua",), "judy": ("judith",),
    "kim": ("kimberly",), "larry": ("lawrence",), "len": ("leonard",), "leo": ("leonard",), "liz": ("elizabeth",),
    "lizzie": ("elizabeth",), "maggie": ("margaret",), "meg": ("margaret",), "peggy": ("margaret",),
    "mandy": ("amanda",), "matt": ("matthew",), "max": ("maximilian", "maxwell"), "mike": ("michael",),
    "mick": ("michael",), "mickey": ("michael",), "mitch": ("mitchell",), "molly": ("mary",), "polly": ("mary",),
    "nate": ("nathan", "nathaniel"), "nick": ("nicholas",), "nicky": ("nicholas", "nicole"), "pam": ("pamela",),
    "pat": ("patrick", "patricia"), "patty": ("patricia",), "pete": ("peter",), "phil": ("philip", "phillip"),
    "ray": ("raymond",), "rob": ("robert",), "robbie": ("robert",), "ron": ("ronald",), "ronnie": ("ronald",),
    "russ": ("russell",), "sam": ("samuel", "samantha"), "sammy": ("samuel",), "sandy": ("sandra",),
    "steve": ("steven", "stephen"), "stu": ("stuart",), "sue": ("susan",), "susie": ("susan",),
    "terry": ("terence", "teresa"), "tim": ("timothy",), "timmy": ("timothy",), "tom": ("thomas",),
    "tommy": ("thomas",), "tony": ("anthony",), "trish": ("patricia",), "vicky": ("victoria",), "vince": ("vincent",),
    "walt": ("walter",), "will": ("william",), "willy": ("william",), "zach": ("zachary",), "zack": ("zachary",),
}  # fmt: skip
"""Nickname -> the formal given names it shortens (English; a CRM's most common case)."""
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "rev", "herr", "frau", "mme"})
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "phd", "md", "esq", "mba", "cpa"})
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")
_JOINERS = re.compile(r"['\u2019-]")
ROLE_MAILBOXES = frozenset({
    "info", "sales", "contact", "admin", "office", "support", "hello", "team", "marketing", "billing", "accounts",
    "enquiries", "inquiries", "noreply", "no-reply", "help", "mail", "webmaster", "hr", "jobs", "careers", "service",
})  # fmt: skip
"""Local parts that name a function, not a person: several people read and write from them."""
_GMAIL = frozenset({"gmail.com", "googlemail.com"})


@dataclass(frozen=True, slots=True)
class PersonName:
    """A name split for matching: folded words, no titles or generational suffixes."""

    given: str | None
    family: str | None
    middle: tuple[str, ...] = ()

    @property
    def initial(self) -> str | None:
        """The given name's first letter."""
        return self.given[0] if self.given else None


@lru_cache(maxsize=1 << 16)
def person_name(name: str | None) -> PersonName:
    """Split a full name ("John Smith", "Smith, John", "Dr. J. A. Smith Jr.") into given, middle and family.

    A single word is a family name (a CRM's required last name). Apostrophes and hyphens join
    ("O'Brien" -> ``obrien``).
    """
    if not name:
        return PersonName(None, None)
    family_first = "," in name
    if family_first:
        family_part, _, given_part = name.partition(",")
        name = f"{given_part} {family_part}"
    words = [_JOINERS.sub("", word) for word in _WORD.findall(fold_text(name))]
    while words and words[0] in _TITLES:
        del words[0]
    while len(words) > 1 and words[-1] in _SUFFIXES:
        del words[-1]
    if not words:
        return PersonName(None, None)
    if len(words) == 1:
        return PersonName(None, words[0])
    return PersonName(words[0], words[-1], tuple(words[1:-1]))


@lru_cache(maxsize=1 << 14)
def given_forms(given: str) -> frozenset[str]:
    """A given name and every formal name it may shorten ("bob" -> {"bob", "robert"})."""
    return frozenset((given, *_NICKNAMES.get(given, ())))


def nickname_of(left: str, right: str) -> bool:
    """Whether two different given names are one person's by nickname ("Bob" and "Robert", "Bill" and "Will")."""
    return left != right and not given_forms(left).isdisjoint(given_forms(right))


def initial_agrees(left: str, right: str) -> bool:
    """Whether one given name is a single letter that starts the other ("J" and "John")."""
    return (len(left) == 1 or len(right) == 1) and left[0] == right[0]


def normalize_email(email: str | None) -> str | None:
    """An address as one mailbox: lower case, no display name, no ``+tag``; Gmail without dots.

    ``None`` when it is not an address (no ``@``, or no valid domain).
    """
    if not email:
        return None
    text = email.strip()
    if "<" in text and text.endswith(">"):
        text = text.rsplit("<", 1)[1][:-1]
    text = text.casefold().removeprefix("mailto:").strip()
    local, at, host = text.rpartition("@")
    domain = normalize_domain(host) if at and "@" not in local else None
    local = local.split("+", 1)[0]
    if not local or domain is None:
        return None
    if domain in _GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}" if local else None


def is_role_email(email: str | None) -> bool:
    """Whether a normalized address is a shared role mailbox (``info@``, ``sales@``...)."""
    return email is not None and email.partition("@")[0] in ROLE_MAILBOXES
