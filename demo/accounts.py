"""The demo org's accounts, their contacts and notes.

Besides a few hundred ordinary companies it holds what the seeds complain about: one company
entered under several names ("Acme Products", "Acme Products, Inc."...), sometimes sharing a
website; look-alikes that are different companies ("Bank of the West" / "Bank of the East");
channel partners; names in other scripts and with emoji; an account with no owner and accounts
still owned by a rep who left.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from demo.people import CHANNEL_MANAGER, CITIES, COUNTRY_OF_TEAM, LEAVER, REPS, Person, email_for, person_name
from domain.records import Account, Contact, Note

DUPLICATE_GROUPS: tuple[tuple[tuple[str, str | None], ...], ...] = (
    (
        ("Acme Products", "acmeproducts.com"),
        ("Acme Products, Inc.", "https://www.acmeproducts.com/"),
        ("Acme Products, Inc", None),
        ("Acme Products, Incorporated", "www.acmeproducts.com"),
    ),
    (("Globex GmbH", "globex.de"), ("Globex", "https://globex.de")),
    (("Initech LLC", "initech.com"), ("Initech", None)),
    (("Umbrella Corporation", "umbrella-corp.com"), ("Umbrella Corp.", "umbrella-corp.com")),
    (("Hooli Inc.", "hooli.com"), ("HOOLI", "hooli.com")),
    (("Soylent Corp", None), ("Soylent Corporation", "soylent.example")),
    (("Müller & Söhne GmbH", "mueller-soehne.de"), ("Mueller und Soehne", "mueller-soehne.de")),
)
"""One company each, entered under several names; the first spelling is the oldest record."""
ENTERED_THIS_WEEK = "Hooli Inc."
"""A duplicate created two days ago, so the scheduled dedupe rule has a new duplicate to flag."""

LOOK_ALIKES: tuple[tuple[str, str | None], ...] = (
    ("Bank of the West", "bankofthewest.com"),
    ("Bank of the East", "bankoftheeast.com"),
    ("Northwind II", "northwind2.com"),
    ("Northwind III", "northwind3.com"),
    ("Contoso Pharma", "contosopharma.com"),
    ("Contoso Pharmacy", "contosopharmacy.com"),
)
"""Different companies with near-identical names: dedupe must leave them apart."""

UNUSUAL_NAMES: tuple[tuple[str, str | None, str], ...] = (
    ("株式会社トヨタ", "toyota.jp", "JP"),
    ("Café ☕ Ltd", "cafe-ltd.co.uk", "GB"),
    ("Ромашка ООО", None, "DE"),  # noqa: RUF001 (Cyrillic on purpose)
    ("🚀 Rocket Labs", "rocketlabs.io", "US"),
    ("Société Générale d'Électricité", "sge.fr", "FR"),
)
PARTNERS = (
    "Channel Partners Inc.", "Resell Right LLC", "Northstar Integrators", "Bluebird Solutions",
    "CloudBridge Consulting", "Vantage Resellers", "Keystone Systems Partners", "Atlas Channel Group",
)
WORDS = (
    "Apex", "Blue", "Cedar", "Delta", "Ember", "Falcon", "Granite", "Harbor", "Iron", "Juniper",
    "Kite", "Lumen", "Maple", "Nova", "Orbit", "Pine", "Quartz", "River", "Summit", "Tidal", "Union",
    "Vertex", "Willow", "Zenith", "Aurora", "Beacon", "Crest", "Drift", "Echo", "Frontier",
)
NOUNS = (
    "Analytics", "Logistics", "Foods", "Robotics", "Health", "Energy", "Media", "Capital", "Labs",
    "Manufacturing", "Software", "Dynamics", "Retail", "Networks", "Pharma", "Textiles", "Motors",
)
SUFFIXES = ("", "", "", " Inc.", " LLC", " Ltd", " GmbH", " Corp.", " Group", " AG", " S.A.")
NOTE_TITLES = ("Pricing discussion", "Org chart", "Renewal risk", "Competitor in play", "Meeting notes")


@dataclass
class DemoAccounts:
    accounts: list[Account] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    def of_type(self, account_type: str) -> list[Account]:
        return [a for a in self.accounts if a.account_type == account_type]


def _ordinary_names(rng: random.Random, count: int) -> list[str]:
    cores = [f"{w} {n}" for w in WORDS for n in NOUNS]
    return [core + rng.choice(SUFFIXES) for core in rng.sample(cores, count)]


def _domain(name: str) -> str | None:
    core = "".join(ch for ch in name.lower().split(",")[0] if ch.isascii() and ch.isalnum())
    return f"{core}.com" if core else None


def build_accounts(rng: random.Random, now: datetime, ordinary: int = 270) -> DemoAccounts:
    """Accounts (duplicates, look-alikes, partners, ordinary companies), contacts and notes."""
    out = DemoAccounts()
    rows: list[tuple[str, str | None, str | None, Person | None]] = []
    shared_place: dict[str, tuple[str, str]] = {}  # the spellings of one company share its billing address
    for group in DUPLICATE_GROUPS:
        account_type = rng.choice(("Customer", "Prospect"))
        owners = [rng.choice(REPS) for _ in group]
        country = COUNTRY_OF_TEAM[owners[0].team]
        place = (rng.choice(CITIES[country]), country)
        shared_place.update((name, place) for name, _ in group)
        rows.extend((name, site, account_type, owner) for (name, site), owner in zip(group, owners, strict=True))
    rows.extend((name, site, rng.choice(("Customer", "Prospect")), rng.choice(REPS)) for name, site in LOOK_ALIKES)
    rows.extend((name, site, "Customer", rng.choice(REPS)) for name, site, _ in UNUSUAL_NAMES)
    rows.extend((name, _domain(name), "Partner", CHANNEL_MANAGER) for name in PARTNERS)
    for name in _ordinary_names(rng, ordinary):
        account_type = "Customer" if rng.random() < 0.45 else "Prospect"
        owner = LEAVER if rng.random() < 0.03 else rng.choice(REPS)
        rows.append((name, _domain(name) if rng.random() < 0.8 else None, account_type, owner))
    rows.append(("Orphan Holdings", "orphan.example", "Prospect", None))
    countries = {name: country for name, _, country in UNUSUAL_NAMES}
    for number, (account_name, website, kind, account_owner) in enumerate(rows, start=1):
        country = countries.get(account_name) or COUNTRY_OF_TEAM[account_owner.team if account_owner else "East"]
        city, country = shared_place.get(account_name) or (rng.choice(CITIES[country]), country)
        created = now - timedelta(days=rng.randint(30, 1500), minutes=rng.randint(0, 1440))
        if account_name == ENTERED_THIS_WEEK:
            created = now - timedelta(days=2)
        account = Account(
            id=f"acc-{number:06d}",
            name=account_name,
            owner_id=account_owner.owner_id if account_owner else None,
            created_at=created,
            updated_at=created + (now - created) * rng.random(),
            website=website,
            phone=f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}" if rng.random() < 0.7 else None,
            billing_city=city,
            billing_country=country,
            account_type=kind,
            extra={"industry": rng.choice(NOUNS)},
        )
        out.accounts.append(account)
        _add_children(out, account, website, rng, now)
    return out


def _add_children(out: DemoAccounts, account: Account, site: str | None, rng: random.Random, now: datetime) -> None:
    domain = site.removeprefix("https://").removeprefix("www.").strip("/") if site else None
    for _ in range(rng.randint(1, 3)):
        name = person_name(rng)
        created = account.created_at + (now - account.created_at) * rng.random() * 0.5
        out.contacts.append(
            Contact(
                id=f"con-{len(out.contacts) + 1:06d}",
                name=name,
                account_id=account.id,
                owner_id=account.owner_id,
                created_at=created,
                updated_at=created,
                email=email_for(name, domain, rng),
                phone=f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}" if rng.random() < 0.5 else None,
            )
        )
    if rng.random() < 0.3:
        created = account.created_at + (now - account.created_at) * rng.random()
        title = rng.choice(NOTE_TITLES)
        out.notes.append(
            Note(f"not-{len(out.notes) + 1:06d}", account.id, title, f"{title} for {account.name}.", created, created)
        )
