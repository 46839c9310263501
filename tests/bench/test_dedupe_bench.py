import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run(*args: str) -> str:
    done = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


def test_speed_benchmark_prints_its_figures() -> None:
    """The speed benchmark runs at a tiny size and prints seconds, memory and pairs compared."""
    out = run("bench/dedupe.py", "--n", "2000", "--splink-n", "0")
    assert "records/s" in out
    assert "peak RSS" in out
    assert "pairs compared" in out



def test_speed_benchmark_in_batches_finds_the_same_pairs_and_matches() -> None:
    """Generating and normalizing a batch at a time (the 10M mode) compares and matches exactly as in one go."""

    def pairs_and_matches(*flags: str) -> str:
        out = run("bench/dedupe.py", "--n", "3000", "--splink-n", "0", "--workers", "1", *flags)
        return next(line for line in out.splitlines() if "pairs compared" in line)

    assert pairs_and_matches("--batch", "700") == pairs_and_matches()

def test_quality_benchmark_prints_precision_and_recall() -> None:
    """The quality benchmark scores both tiers on the generated set without splink."""
    out = run("bench/dedupe_quality.py", "--no-splink", "--limit", "400")
    assert "== generated: 400 records" in out
    assert "ours, auto tier" in out
    assert "ours, auto + review" in out
    assert "precision 1.0000" in out or "precision 0.9" in out
    assert "checks: 0 proposed pairs differ by a number or direction, 0 auto-tier links lack" in out
    assert "goal (counting auto + review: a proposal in review is one an admin sees and decides): " \
        "precision >= 0.99 at recall >= 0.80" in out


def test_generator_is_deterministic(tmp_path: Path) -> None:
    """Regenerating the labeled set gives the committed file byte for byte."""
    target = tmp_path / "companies.csv"
    run("bench/generate_companies.py", str(target))
    assert target.read_bytes() == (REPO / "bench" / "data" / "company_duplicates.csv").read_bytes()
