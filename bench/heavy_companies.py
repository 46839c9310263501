"""A heavily duplicated company set: real company names, entered tens to hundreds of times each.

The names are real: the constituents of twenty stock indices in twelve countries that the
``pytickersymbols`` package ships (AEX, DAX, CAC 40, FTSE 100, Nikkei 225, S&P 500 and 600, IBEX,
OMX, SMI, ...: about 1,800 companies), and, when ``../shared/data`` has it, the Chicago set's
organisations whose name belongs to one organisation only. Their cluster sizes follow a long tail, as
in a public register where big companies appear hundreds of times: a handful of companies have
hundreds of records, a hundred have tens, the rest one to eight.

Each record is written the way real exports write a company: upper, lower or title case; the legal
form dropped, kept, or swapped for another spelling of the company's country ("N.V."/"NV",
"AG"/"Aktiengesellschaft", "Inc."/"Corporation"/"Co.", "plc"/"Limited", "Oyj", "K.K."...), with or
without a comma; punctuation dropped; "&" and "and"; a leading "The"; one typo in a long word; a city
or a department appended (", Amsterdam", " - Research Department", " (Legal Dept.)", " c/o Accounts
Payable"); and for companies that were renamed, their old name. Half the records carry the
company's country; none has a website, phone or address (a register of names, the hard case).
Everything is drawn from one seeded generator, so a run is repeatable.
"""

from __future__ import annotations

import csv
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from bench.labeled import CHICAGO_CSV, LabeledSet
from dedupe.candidate import Candidate
from dedupe.normalize import normalize_name

LEGAL = {
    "US": ["Inc.", "Inc", "Incorporated", "Corp.", "Corporation", "Co.", "Company", "LLC"],
    "GB": ["plc", "PLC", "Public Limited Company", "Ltd", "Limited"],
    "DE": ["AG", "SE", "Aktiengesellschaft", "GmbH", "KGaA"],
    "FR": ["S.A.", "SA", "SE", "S.A.S."],
    "NL": ["N.V.", "NV", "B.V."],
    "BE": ["SA/NV", "NV", "S.A."],
    "JP": ["K.K.", "Co., Ltd.", "Corporation", "Kabushiki Kaisha"],
    "ES": ["S.A.", "SA"],
    "FI": ["Oyj", "Oy", "Abp"],
    "SE": ["AB", "AB (publ)"],
    "CH": ["AG", "SA", "Ltd"],
    "IT": ["S.p.A.", "SpA"],
}
COUNTRIES = {"Netherlands": "NL", "Germany": "DE", "France": "FR", "United Kingdom": "GB", "Japan": "JP",
             "Spain": "ES", "Finland": "FI", "Sweden": "SE", "Switzerland": "CH", "Belgium": "BE", "Italy": "IT"}
DEPARTMENTS = [" - Research Department", " (Legal Dept.)", " c/o Accounts Payable", ", Patent Department",
               " - Purchasing", " Attn: Legal Department", " (Headquarters)"]  # fmt: skip
RENAMES = {"TotalEnergies": "Total S.A.", "Mercedes-Benz Group": "Daimler AG", "Meta Platforms": "Facebook, Inc.",
           "Shell": "Royal Dutch Shell plc", "Stellantis": "Fiat Chrysler Automobiles N.V.",
           "Alphabet": "Google Inc.", "RTX": "Raytheon Technologies Corporation", "Airbus": "Airbus Group SE",
           "Yokohama Financial Group": "Bank of Yokohama", "Philips": "Koninklijke Philips Electronics N.V.",
           "Kraft Heinz": "H. J. Heinz Company", "Bayer": "Bayer Aktiengesellschaft"}  # fmt: skip
"""Real renames (new name -> an old one) of companies in the indices, matched by the new name's start."""
SIZES = ((6, 250, 600), (24, 40, 200), (120, 8, 40))
"""(companies, fewest records, most records) for the head of the long tail; every other company gets 1 to 8."""


@dataclass(frozen=True, slots=True)
class Company:
    entity: str
    name: str
    country: str | None
    city: str | None
    old_name: str | None = None


def _country(raw: str | None) -> str | None:
    if raw is None:
        return None
    return COUNTRIES.get(raw, "US" if "," in raw or raw == "United States" else None)


def _city(headquarters: str | None) -> str | None:
    city = re.split(r"\s*[,(]", headquarters or "")[0].strip()
    return city if 2 < len(city) < 25 and city.replace(" ", "").isalpha() else None


def index_companies() -> list[Company]:
    """The companies of the indices ``pytickersymbols`` ships, one per ISIN (or name)."""
    from pytickersymbols.indices_data import INDICES  # type: ignore[import-not-found]

    found: dict[str, Company] = {}
    for index in INDICES.values():
        for raw in index["companies"]:
            entity = (raw.get("isins") or [raw["name"]])[0]
            metadata = raw.get("metadata") or {}
            old = next((o for new, o in RENAMES.items() if raw["name"].startswith(new)), None)
            found.setdefault(entity, Company(entity, raw["name"], _country(raw.get("country")),
                                             _city(metadata.get("headquarters")), old))
    return sorted(found.values(), key=lambda c: c.entity)


def chicago_organisations(path: Path) -> list[Company]:
    """Chicago organisations, one name each: the most common name of a true id that no other id uses."""
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [(" ".join(r["Site name"].split()), r["True Id"]) for r in csv.DictReader(handle)]
    ids_of: defaultdict[str, set[str]] = defaultdict(set)
    names_of: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for name, true_id in rows:
        ids_of[normalize_name(name)].add(true_id)
        names_of[true_id][name] += 1
    found = []
    for true_id, names in sorted(names_of.items()):
        name = names.most_common(1)[0][0]
        if ids_of[normalize_name(name)] == {true_id}:
            found.append(Company(f"chicago-{true_id}", name, "US", "Chicago"))
    return found


def distinct_names(companies: list[Company]) -> list[Company]:
    """One company per normalized name: two companies called alike ("First Bancorp" of Puerto Rico and of
    North Carolina) cannot be told apart by name, and a register of names is all this set is."""
    seen: set[str] = set()
    kept = []
    for company in companies:
        key = normalize_name(_core(company.name))
        if key not in seen:
            seen.add(key)
            kept.append(company)
    return kept


def _core(name: str) -> str:
    from cleanco import basename  # type: ignore[import-untyped]

    return str(basename(name)) or name


def _typo(name: str, rng: random.Random) -> str:
    words = name.split(" ")
    long = [i for i, w in enumerate(words) if len(w) >= 6 and w.isalpha()]
    if not long:
        return name
    i = rng.choice(long)
    word, at = words[i], rng.randrange(1, len(words[i]) - 2)
    words[i] = rng.choice([word[:at] + word[at + 1] + word[at] + word[at + 2:], word[:at] + word[at + 1:],
                           word[:at] + word[at] + word[at:]])  # fmt: skip
    return " ".join(words)


def variant(company: Company, rng: random.Random) -> str:
    """One record's spelling of ``company``'s name."""
    if company.old_name and rng.random() < 0.05:
        name = company.old_name
    else:
        name = _core(company.name)
        forms = LEGAL.get(company.country or "", LEGAL["US"])
        roll = rng.random()
        if roll < 0.4:
            name = f"{name}{rng.choice([' ', ', '])}{rng.choice(forms)}"
        elif roll < 0.7:
            name = company.name
    if "&" in name and rng.random() < 0.3:
        name = name.replace("&", "and")
    if rng.random() < 0.03:
        name = f"The {name}"
    if rng.random() < 0.1:
        name = _typo(name, rng)
    if rng.random() < 0.1:
        name += f", {company.city}" if company.city and rng.random() < 0.5 else rng.choice(DEPARTMENTS)
    if rng.random() < 0.15:
        name = re.sub(r"[.,]", "", name)
    case = rng.random()
    return name.upper() if case < 0.3 else name.lower() if case < 0.4 else name.title() if case < 0.5 else name


def _sizes(count: int, rng: random.Random) -> list[int]:
    sizes: list[int] = []
    for companies, low, high in SIZES:
        sizes += [rng.randint(low, high) for _ in range(companies)]
    return (sizes + [rng.randint(1, 8) for _ in range(count)])[:count]


def heavy_set(companies: list[Company], seed: int = 20, scale: float = 1.0) -> tuple[list[Candidate], list[str]]:
    """Records and their true company, the head of the tail drawn from the index companies."""
    rng = random.Random(seed)
    order = companies[:]
    rng.shuffle(order)
    order.sort(key=lambda c: c.entity.startswith("chicago-"))  # the big clusters are the listed companies
    candidates, truth = [], []
    for company, size in zip(order, _sizes(len(order), rng), strict=True):
        for _ in range(max(1, round(size * scale))):
            country = company.country if rng.random() < 0.5 else None
            candidates.append(Candidate(f"r{len(candidates)}", variant(company, rng), country=country))
            truth.append(company.entity)
    return candidates, truth


def load_heavy(scale: float = 1.0) -> LabeledSet | None:
    """The heavily duplicated set, or ``None`` when ``pytickersymbols`` (in the bench extra) is missing."""
    try:
        listed = index_companies()
    except ImportError:
        return None
    candidates, truth = heavy_set(distinct_names(listed + chicago_organisations(CHICAGO_CSV)), scale=scale)
    return LabeledSet("heavy (real company names)", candidates, truth)
