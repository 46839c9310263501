"""splink (DuckDB backend) on the same accounts, for comparison; optional (``pip install -e '.[bench]'``).

splink gets the light cleaning any user would give it (lower case, punctuation and a leading "the"
off the name, our domain/phone/street normalizers), a name + phone + street + postcode/city +
domain model trained by random sampling and expectation maximisation, and blocking on name, phone,
street, domain and name prefix + city. DuckDB runs on two threads under a memory cap.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Any

from dedupe.candidate import Candidate
from dedupe.contact_points import evidence_domain, normalize_phone, normalize_postcode, normalize_street

DUCKDB_MEMORY = "3GB"
"""DuckDB's memory cap: the machine is shared."""
MISSING_MESSAGE = "splink is not installed: run `.venv/bin/pip install -e '.[bench]'` to compare with it"


@dataclass(frozen=True, slots=True)
class SplinkRun:
    edges: list[tuple[int, int, float]]
    """Predicted pairs ``(i, j, match_probability)``."""
    seconds: float


def splink_installed() -> bool:
    try:
        import duckdb  # noqa: F401
        import splink  # noqa: F401
    except ImportError:
        return False
    return True


def _row(position: int, candidate: Candidate) -> dict[str, Any]:
    name = re.sub(r"[\W_]+", " ", candidate.name.casefold()).strip().removeprefix("the ")
    return {
        "unique_id": position,
        "name": name or None,
        "name_prefix": name[:4] or None,
        "phone": normalize_phone(candidate.phone, candidate.country),
        "street": normalize_street(candidate.street),
        "postcode": normalize_postcode(candidate.postcode),
        "city": candidate.city.casefold() if candidate.city else None,
        "domain": evidence_domain(candidate.website),
    }


def run_splink(candidates: list[Candidate], threshold: float = 0.05) -> SplinkRun:
    """Train and predict with splink; returns every pair above ``threshold`` match probability."""
    import duckdb
    import pyarrow as pa  # type: ignore[import-untyped]
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    from splink.internals.exceptions import EMTrainingException

    logging.getLogger("splink").setLevel(logging.ERROR)
    started = time.perf_counter()
    rows = [_row(position, candidate) for position, candidate in enumerate(candidates)]
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("name", [0.95, 0.88, 0.8]),
            cl.ExactMatch("phone"),
            cl.LevenshteinAtThresholds("street", [2]),
            cl.ExactMatch("postcode"),
            cl.ExactMatch("city"),
            cl.ExactMatch("domain"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("name"),
            block_on("phone"),
            block_on("street"),
            block_on("domain"),
            block_on("name_prefix", "city"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    database = DuckDBAPI(connection=duckdb.connect(config={"memory_limit": DUCKDB_MEMORY, "threads": 2}))
    linker = Linker(database.register(pa.Table.from_pylist(rows)), settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match([block_on("name")], recall=0.6)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    for rule in (block_on("name_prefix"), block_on("phone")):
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        except EMTrainingException:  # a set without phones (a register of names) has no pairs to train on
            continue
    predictions = linker.inference.predict(threshold_match_probability=threshold).as_record_list()
    edges = [(int(p["unique_id_l"]), int(p["unique_id_r"]), float(p["match_probability"])) for p in predictions]
    return SplinkRun(edges=edges, seconds=time.perf_counter() - started)
