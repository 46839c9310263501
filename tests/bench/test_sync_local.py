from __future__ import annotations

from pathlib import Path

import pytest

from bench.sync_local import main
from domain.records import ObjectType, Opportunity
from store import mirror
from store.db import make_engine, session_factory
from store.models import OpportunityRow


def test_sync_after_one_percent_changed_reads_only_the_changed_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """At a tiny scale the incremental sync reads the changed records (plus owners), the naive one everything."""
    seed, first, old, change, incremental, naive = main(["--scale", "0.0002", "--workdir", str(tmp_path)])
    out = capsys.readouterr().out
    for phase in ("seed CRM", "first sync", "change via CRM", "1% changed sync", "naive full re-read"):
        assert phase in out
    assert first.records == old.records == naive.records > seed.records
    owners_and_watermark_boundary = first.records - seed.records + 3
    assert change.records <= incremental.records <= change.records + owners_and_watermark_boundary
    assert incremental.records < naive.records / 10
    for sync in (first, incremental, naive):  # the mirror's own rate leaves out the time the CRM took to answer
        assert 0 < sync.read_seconds < sync.seconds
        assert sync.ingest_rate is not None and sync.ingest_rate > sync.records / sync.seconds
    assert f"ingest {first.ingest_rate:,.0f} records/s" in out
    engine = make_engine(f"sqlite:///{tmp_path / 'mirror.db'}")
    with session_factory(engine)() as session:
        changed = list(mirror.iter_records(session, "local", ObjectType.OPPORTUNITY,
                                           where=OpportunityRow.id == "opp-000000100"))
    engine.dispose()
    assert [o.amount for o in changed if isinstance(o, Opportunity)] == [4200.0]


def test_a_second_run_in_the_same_folder_syncs_from_an_empty_mirror(tmp_path: Path) -> None:
    """The CRM is kept for the next run, the mirror is not: its first sync reads the whole org again."""
    args = ["--scale", "0.008", "--workdir", str(tmp_path), "--old-path", "skip"]
    main(args)
    again = {p.name: p for p in main(args)}
    assert "seed CRM" not in again
    assert again["first sync"].records == again["naive full re-read"].records
    assert again["1% changed sync"].records >= again["change via CRM"].records > 0


@pytest.mark.postgres
def test_a_postgresql_mirror_s_ingest_rate_leaves_out_the_waits_for_its_read_ahead(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The reads run beside the writes: only the time the writer waited for them is left out of its own rate."""
    phases = {p.name: p for p in main(["--scale", "0.0002", "--workdir", str(tmp_path), "--old-path", "skip",
                                       "--database", "postgresql"])}
    first = phases["first sync"]
    assert 0 < first.read_seconds < first.seconds
    assert first.ingest_rate is not None and first.ingest_rate > first.records / first.seconds
    assert f"ingest {first.ingest_rate:,.0f} records/s without waiting for the CRM" in capsys.readouterr().out
