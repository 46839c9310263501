"""The demo org's people: managers, reps in several time zones, a channel manager, a leaver, queues.

``config/policy.yaml`` names these people by email, so they are fixed, not generated.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.records import Owner

DOMAIN = "example.com"


@dataclass(frozen=True, slots=True)
class Person:
    login: str
    name: str
    time_zone: str
    team: str
    manager: str | None = None
    active: bool = True

    @property
    def owner_id(self) -> str:
        return "usr-" + self.login.replace(".", "-")

    @property
    def email(self) -> str:
        return f"{self.login}@{DOMAIN}"


MANAGERS = (
    Person("maria.lopez", "Maria Lopez", "America/New_York", "East"),
    Person("kenji.sato", "Kenji Sato", "America/Los_Angeles", "West"),
    Person("priya.natarajan", "Priya Natarajan", "Europe/London", "EMEA"),
)
REPS = (
    Person("alex.carter", "Alex Carter", "America/New_York", "East", "maria.lopez"),
    Person("jordan.blake", "Jordan Blake", "America/New_York", "East", "maria.lopez"),
    Person("sam.rivera", "Sam Rivera", "America/Chicago", "East", "maria.lopez"),
    Person("taylor.brooks", "Taylor Brooks", "America/New_York", "East", "maria.lopez"),
    Person("chris.nguyen", "Chris Nguyen", "America/Los_Angeles", "West", "kenji.sato"),
    Person("dana.kim", "Dana Kim", "America/Los_Angeles", "West", "kenji.sato"),
    Person("eli.moreno", "Eli Moreno", "America/Denver", "West", "kenji.sato"),
    Person("fatima.haddad", "Fatima Haddad", "Europe/London", "EMEA", "priya.natarajan"),
    Person("lukas.becker", "Lukas Becker", "Europe/Berlin", "EMEA", "priya.natarajan"),
    Person("olga.ivanova", "Ольга Иванова", "Europe/Berlin", "EMEA", "priya.natarajan"),
)
CHANNEL_MANAGER = Person("robin.shaw", "Robin Shaw", "America/New_York", "East", "maria.lopez")
LEAVER = Person("pat.morgan", "Pat Morgan", "America/New_York", "East", "maria.lopez", active=False)

MARKETING_QUEUE = Owner("q-marketing", "Marketing Queue", is_queue=True)
SALES_QUEUE = Owner("q-sales", "Sales Queue", is_queue=True)

COUNTRY_OF_TEAM = {"East": "US", "West": "US", "EMEA": "GB"}
CITIES = {
    "US": ("Boston", "New York", "Chicago", "Atlanta", "San Francisco", "Seattle", "Denver", "Austin"),
    "GB": ("London", "Manchester", "Edinburgh"),
    "DE": ("Berlin", "München", "Köln"),
    "JP": ("東京", "大阪"),
    "FR": ("Paris", "Lyon"),
}
FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "Michael", "Linda", "David", "Susan", "Wei", "Aisha",
    "José", "Zoë", "Søren", "Ngozi", "Hiroshi", "Anaïs", "Rahul", "Chloé", "Mateo", "Ingrid",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Garcia", "Müller", "Dubois", "Tanaka", "Okafor", "Patel",
    "O'Brien", "Ramírez", "Kowalski", "Nakamura", "Lindqvist", "Haddad", "Chen", "Rossi", "Novák", "Kim",
)
NON_LATIN_NAMES = ("山田 太郎", "Иван Петров", "김민준", "محمد علي", "Γιώργος Παπαδόπουλος")


def everyone() -> tuple[Person, ...]:
    return (*MANAGERS, *REPS, CHANNEL_MANAGER, LEAVER)


def demo_owners(now: datetime) -> list[Owner]:
    """Users (with their managers and time zones) and the two queues."""
    by_login = {p.login: p for p in everyone()}
    since = now - timedelta(days=400)
    users = [
        Owner(
            id=p.owner_id,
            name=p.name,
            email=p.email,
            active=p.active,
            manager_id=by_login[p.manager].owner_id if p.manager else None,
            time_zone=p.time_zone,
            updated_at=since,
        )
        for p in everyone()
    ]
    queues = [
        Owner(q.id, q.name, is_queue=True, updated_at=since) for q in (MARKETING_QUEUE, SALES_QUEUE)
    ]
    return [*users, *queues]


def person_name(rng: random.Random) -> str:
    """A contact or lead name, now and then in a non-Latin script."""
    if rng.random() < 0.05:
        return rng.choice(NON_LATIN_NAMES)
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def email_for(name: str, domain: str | None, rng: random.Random) -> str | None:
    """A plausible work email; None for people whose name has no ASCII form or no known domain."""
    if domain is None or not name.isascii() or rng.random() < 0.1:
        return None
    first, _, last = name.lower().replace("'", "").partition(" ")
    return f"{first}.{last}@{domain}"
