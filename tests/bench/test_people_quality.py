import re

from tests.bench.test_dedupe_bench import run


def test_people_quality_bench_prints_precision_and_recall_of_each_febrl_set() -> None:
    """At a tiny size the person bench scores every FEBRL set, both tiers, every proposal explained."""
    out = run("bench/dedupe_quality.py", "--only", "people", "--no-splink", "--limit", "300")
    assert out.count("ours, auto + review") == 4
    assert "FEBRL 4" in out
    assert "proposals without a reason 0" in out
    assert out.count("goal (counting auto + review") == 4 and "at recall >= 0.90" in out
    precisions = [float(p) for p in re.findall(r"ours, auto \+ review\s+precision ([\d.]+)", out)]
    assert min(precisions) >= 0.99
