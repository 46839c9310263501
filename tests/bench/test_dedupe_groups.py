import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run(*args: str) -> str:
    done = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=300, check=True)
    return done.stdout


def test_exact_name_groups_plan_whole_and_the_naive_way_is_measured() -> None:
    """Each exact-name group comes out as one cluster; the run prints its seconds and the naive way's."""
    out = run("bench/dedupe_groups.py", "--rows", "800", "--groups", "2", "--group-size", "150")
    assert "2 of 2 exact-name groups whole (largest cluster 150 accounts)" in out
    assert "0 API calls" in out and "x the whole plan" in out


def test_the_heavy_set_reports_pairwise_and_b_cubed_quality() -> None:
    """The heavily duplicated set of real company names runs at a tiny size and reports both measures."""
    out = run("bench/dedupe_quality.py", "--only", "heavy", "--no-splink", "--limit", "1500")
    assert "== heavy (real company names): 1500 records" in out
    assert "ours, auto + review, B-cubed" in out
    assert "0 proposed pairs differ by a number or direction" in out
