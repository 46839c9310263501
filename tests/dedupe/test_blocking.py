import pytest

from dedupe import blocking
from dedupe.blocking import candidate_pairs
from dedupe.candidate import Candidate, build_profiles


def test_forked_blocking_gives_the_same_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocking in two processes yields the pairs and skipped blocks of one process."""
    monkeypatch.setattr(blocking, "MIN_TO_FORK", 2)
    names = ["Acme Products", "ACME PRODUCTS INC", "Acme Productions", "Northwind II", "Northwind II Ltd"] + [
        "Same Name"
    ] * 4
    candidates = [
        Candidate(f"a{i}", name, website="acme.com" if i < 3 else None, phone="312 555 0100" if i % 2 else None)
        for i, name in enumerate(names)
    ]
    profiles = build_profiles(candidates)
    serial = candidate_pairs(profiles, max_block=3, window=1)
    forked = candidate_pairs(profiles, max_block=3, window=1, workers=2)
    assert (forked.pairs, forked.skipped_blocks) == (serial.pairs, serial.skipped_blocks)
    assert serial.skipped_blocks == {"phone": 1, "word": 2}
    assert divmod(serial.pairs[0], serial.size) == (0, 1)


def test_pairs_come_only_from_shared_keys() -> None:
    """Accounts sharing no name, word, domain, phone or street are never compared."""
    candidates = [Candidate("a0", "Zentrix Analytica"), Candidate("a1", "Quorvel Holdings"), Candidate("a2", "Zentrix")]
    result = candidate_pairs(build_profiles(candidates))
    assert [divmod(pair, result.size) for pair in result.pairs] == [(0, 2)]
