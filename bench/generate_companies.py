"""Generate accounts with known duplicates, built from the ways real company names vary.

Each company gets a name from a realistic pattern (brand + industry word, surnames, "The ... Group",
a marker such as "II" or "West") plus a legal form, a website, a phone and an address. Duplicates
copy the company with the variations CRM data shows: legal form added, dropped or spelled another
way, case, punctuation, "&"/"and", a leading "The", abbreviations, a dropped accent, a typo, a
website written with scheme or path, a phone in another format, missing fields. Near misses are
separate companies whose names differ only by a number, roman numeral or direction, or that share a
name in another city.

    python bench/generate_companies.py            # rewrite bench/data/company_duplicates.csv
"""

from __future__ import annotations

import csv
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

_SYLLABLE_TEXT = """ka lo mi ra ven tor dex quin zal mar bel cor fin gal har jor lux nor pel ros sil tav ul vor wex
yar zen bri cla dro fla gro pra tri sto ber nik ast ol ib pha tes mon vel kor dal rin sar tel hex"""
_SURNAME_TEXT = """Smith Johnson Müller García Novak Rossi Dubois Tanaka Kowalski Jensen Silva Okafor Fischer
Moreau Brennan Lindqvist Haddad Costa Nakamura O'Brien Patel Nguyen Kim Schmidt Ivanova Andersson Bianchi
Martínez Hughes Duarte Yilmaz Kaplan Horvath Nowak Mensah Adeyemi Sato Ortega Larsen Weber Fontaine
Romano Kovacs Petrov Sullivan Whitaker Beaumont Castillo Delgado Eriksen Falk Grieve Holloway Iqbal"""
_INDUSTRY_TEXT = """Products Logistics Consulting Solutions Systems Holdings Partners Industries Foods Robotics
Analytics Plumbing Dental Pharma Textiles Capital Realty Media Labs Motors"""
SYLLABLES = _SYLLABLE_TEXT.split()
SURNAMES = _SURNAME_TEXT.split()
INDUSTRY = _INDUSTRY_TEXT.split()
GENERIC_TAIL = ["Group", "Services", "International", "Technologies", "Associates", ""]
LEGAL = {
    "US": ["Inc.", "Inc", "Incorporated", "Corp.", "Corporation", "LLC", "L.L.C.", "Co."],
    "GB": ["Ltd", "Limited", "PLC", "Ltd."],
    "DE": ["GmbH", "AG", "GmbH & Co. KG"],
    "FR": ["S.A.", "SAS", "SARL"],
    "IT": ["S.p.A.", "S.r.l."],
    "NL": ["B.V.", "BV", "N.V."],
    "AU": ["Pty Ltd", "Pty. Ltd."],
    "JP": ["K.K.", "Kabushiki Kaisha"],
    "SE": ["AB"],
    "PL": ["Sp. z o.o."],
}
CITIES = {"US": ["Chicago", "Boston", "Denver"], "GB": ["London", "Leeds"], "DE": ["Berlin", "Köln"],
          "FR": ["Paris", "Lyon"], "IT": ["Milano"], "NL": ["Utrecht"], "AU": ["Sydney"], "JP": ["Osaka"],
          "SE": ["Malmö"], "PL": ["Kraków"]}  # fmt: skip
MARKERS = [("II", "III"), ("West", "East"), ("North", "South"), ("2", "3"), ("One", "Two")]
ABBREVIATIONS = {"International": "Intl", "Brothers": "Bros", "Center": "Ctr", "Technologies": "Tech"}
ACCENTS = str.maketrans("üéöóáíñç", "ueooainc")


@dataclass(frozen=True, slots=True)
class Company:
    entity: str
    base: str
    country: str
    website: str
    phone: str
    street: str
    city: str
    postcode: str


def brand(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 2, 3)))).capitalize()


def base_name(rng: random.Random) -> str:
    pattern = rng.random()
    if pattern < 0.45:
        name = f"{brand(rng)} {rng.choice(INDUSTRY)} {rng.choice(GENERIC_TAIL)}"
    elif pattern < 0.6:
        name = f"{rng.choice(SURNAMES)} & {rng.choice(SURNAMES)} {rng.choice(INDUSTRY)}"
    elif pattern < 0.75:
        name = f"The {brand(rng)} {rng.choice(GENERIC_TAIL) or 'Group'}"
    elif pattern < 0.9:
        name = f"{brand(rng)} {brand(rng)}"
    else:
        name = f"{rng.choice(SURNAMES)} {brand(rng)} {rng.choice(INDUSTRY)}"
    return " ".join(name.split())


def new_company(rng: random.Random, entity: int, base: str | None = None) -> Company:
    country = rng.choice(list(LEGAL))
    name = base or base_name(rng)
    domain = name.lower().replace("the ", "").split()[0].translate(ACCENTS).replace("'", "")
    return Company(
        entity=f"e{entity}",
        base=name,
        country=country,
        website=f"{domain}{entity}.{'com' if country == 'US' else country.lower()}",
        phone=f"{rng.randint(201, 989)}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}",
        street=f"{rng.randint(1, 9999)} {rng.choice(SURNAMES)} {rng.choice(['Street', 'Avenue', 'Road'])}",
        city=rng.choice(CITIES[country]),
        postcode=f"{rng.randint(10000, 99999)}",
    )


def typo(rng: random.Random, name: str) -> str:
    words = name.split()
    long_words = [index for index, word in enumerate(words) if len(word) >= 6 and word.isalpha()]
    if not long_words:
        return name
    index = rng.choice(long_words)
    word, at = words[index], rng.randint(1, len(words[index]) - 2)
    swapped, dropped = word[:at] + word[at + 1] + word[at] + word[at + 2 :], word[:at] + word[at + 1 :]
    words[index] = swapped if rng.random() < 0.5 else dropped
    return " ".join(words)


def vary_name(rng: random.Random, company: Company) -> str:
    name = company.base
    if rng.random() < 0.3:
        name = name.removeprefix("The ") if name.startswith("The ") else f"The {name}"
    if rng.random() < 0.2:
        name = name.replace(" & ", " and ")
    for word, short in ABBREVIATIONS.items():
        if rng.random() < 0.5:
            name = name.replace(word, short)
    if rng.random() < 0.7:
        name = f"{name}{rng.choice([', ', ' '])}{rng.choice(LEGAL[company.country])}"
    if rng.random() < 0.15:
        name = name.translate(ACCENTS)
    if rng.random() < 0.12:
        name = typo(rng, name)
    case = rng.random()
    return name.upper() if case < 0.1 else name.lower() if case < 0.15 else name


def vary_website(rng: random.Random, website: str) -> str:
    return rng.choice([website, f"https://www.{website}/", f"http://{website}/about", f"WWW.{website.upper()}"])


def vary_phone(rng: random.Random, phone: str, country: str) -> str:
    area, exchange, line = phone[:3], phone[3:6], phone[6:]
    international = f"+1 {area} {exchange} {line}" if country == "US" else f"{area} {exchange}{line}"
    return rng.choice([phone, f"({area}) {exchange}-{line}", international, f"{area}.{exchange}.{line}"])


def account(rng: random.Random, company: Company) -> dict[str, str]:
    """One CRM account for ``company``, with the fields a rep might have typed or left out."""
    def kept(value: str, chance: float) -> str:
        return value if rng.random() < chance else ""

    return {
        "entity": company.entity,
        "name": vary_name(rng, company),
        "website": kept(vary_website(rng, company.website), 0.6) or kept("gmail.com", 0.05),
        "phone": kept(vary_phone(rng, company.phone, company.country), 0.5),
        "street": kept(company.street, 0.4),
        "city": kept(company.city, 0.7),
        "postcode": kept(company.postcode, 0.4),
        "country": company.country,
    }


def companies(rng: random.Random, count: int) -> Iterator[Company]:
    """``count`` companies; about one in twelve comes with a near-miss sibling or a namesake elsewhere."""
    entity = 0
    while entity < count:
        company = new_company(rng, entity)
        entity += 1
        roll = rng.random()
        if roll < 0.05 and entity < count:
            mine, theirs = rng.choice(MARKERS)
            stem = company.base.removeprefix("The ")
            yield replace(company, base=f"{stem} {mine}")
            yield new_company(rng, entity, f"{stem} {theirs}")
            entity += 1
            continue
        yield company
        if roll < 0.08 and entity < count:
            yield new_company(rng, entity, company.base)
            entity += 1


def generate(count: int, seed: int = 7) -> Iterator[dict[str, str]]:
    """Accounts for ``count`` companies; a third of the companies have 1-4 duplicate accounts."""
    rng = random.Random(seed)
    for company in companies(rng, count):
        copies = 1 if rng.random() < 0.67 else rng.choice((2, 2, 2, 3, 3, 4, 5))
        for _ in range(copies):
            yield account(rng, company)


def write_csv(path: Path, rows: Iterator[dict[str, str]]) -> int:
    fields = ["id", "entity", "name", "website", "phone", "street", "city", "postcode", "country"]
    written = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for written, row in enumerate(rows, start=1):
            writer.writerow({"id": f"a{written}", **row})
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "data" / "company_duplicates.csv"
    print(f"wrote {write_csv(target, generate(3000))} accounts to {target}")
