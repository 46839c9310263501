import csv
from pathlib import Path

from bench.labeled import load_chicago, quality, true_pairs

CHICAGO_COLUMNS = ["True Id", "Site name", "Address", "Zip", "Phone"]


def write_sites(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CHICAGO_COLUMNS)
        writer.writerows(rows)
    return path


def test_bare_house_number_ids_are_marked_incomplete(tmp_path: Path) -> None:
    """An id that is only the house number (no ZIP found) is incomplete; number + ZIP ids are not."""
    sites = write_sites(
        tmp_path / "sites.csv",
        [
            ["1001", "Easter Seals", "1001 W Roosevelt Rd ", "", "9395115"],
            ["100160608", "Easter Seals", "1001 W Roosevelt Rd", "60608", "4927402"],
            ["2560609", "Beethoven", "25 W. 47th St. ", "", "5351480"],
        ],
    )
    labeled = load_chicago(sites)
    assert labeled is not None
    assert labeled.incomplete == frozenset({0})


def test_unscored_positions_count_neither_as_hits_nor_as_misses() -> None:
    """Pairs touching an unscored record leave both precision and recall."""
    truth = true_pairs(["x", "x", "y", "y"])
    proposed = {(0, 1), (1, 2)}
    assert quality(proposed, truth).precision == 0.5
    assert quality(proposed, truth).recall == 0.5
    without = quality(proposed, truth, frozenset({2}))
    assert (without.precision, without.recall, without.proposed, without.true_pairs) == (1.0, 1.0, 1, 1)
