"""splink (DuckDB backend) on the same people, for comparison; optional (``pip install -e '.[bench]'``).

splink gets our name split (given/family, folded) and our street and postcode normalizers, a
model of given name, family name, birth date, street, postcode and suburb trained by random
sampling and expectation maximisation (the textbook FEBRL setup), and blocking on each name with
the other's initial, birth date, postcode with street, and the given name with postcode.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from bench.splink_runner import DUCKDB_MEMORY, SplinkRun
from dedupe.person_score import Person, profile


def _row(position: int, person: Person) -> dict[str, Any]:
    p = profile(person)
    return {
        "unique_id": position, "given": p.given, "family": p.family, "birthdate": p.birthdate,
        "street": p.street, "postcode": p.postcode, "city": p.city,
        "given_initial": p.given[:1] if p.given else None, "family_initial": p.family[:1] if p.family else None,
    }


def run_splink_people(people: Sequence[Person], threshold: float = 0.05) -> SplinkRun:
    """Train and predict with splink; returns every pair above ``threshold`` match probability."""
    import duckdb
    import pyarrow as pa  # type: ignore[import-untyped]
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.getLogger("splink").setLevel(logging.ERROR)
    started = time.perf_counter()
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("given", [0.92, 0.8]),
            cl.JaroWinklerAtThresholds("family", [0.92, 0.8]),
            cl.LevenshteinAtThresholds("birthdate", [1, 2]),
            cl.LevenshteinAtThresholds("street", [2]),
            cl.ExactMatch("postcode"),
            cl.LevenshteinAtThresholds("city", [2]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("family", "given_initial"),
            block_on("given", "family_initial"),
            block_on("birthdate"),
            block_on("street", "postcode"),
            block_on("given", "postcode"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    rows = [_row(position, person) for position, person in enumerate(people)]
    database = DuckDBAPI(connection=duckdb.connect(config={"memory_limit": DUCKDB_MEMORY, "threads": 2}))
    linker = Linker(database.register(pa.Table.from_pylist(rows)), settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given", "family", "birthdate")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    for rule in (block_on("birthdate"), block_on("family", "given")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predictions = linker.inference.predict(threshold_match_probability=threshold).as_record_list()
    edges = [(int(p["unique_id_l"]), int(p["unique_id_r"]), float(p["match_probability"])) for p in predictions]
    return SplinkRun(edges=edges, seconds=time.perf_counter() - started)
