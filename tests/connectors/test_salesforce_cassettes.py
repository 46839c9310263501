"""Every kind of call the connector makes, replayed from ``cassettes/salesforce/`` (see sf_cassettes.py).

The scenarios create their own accounts, contacts and tasks, so they re-record against a sandbox too.
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from vcr.errors import CannotOverwriteExistingCassetteException

from connectors.salesforce import SalesforceConnector
from connectors.salesforce._writes import chunks
from domain.connector import NewTask, RecordUpdate
from domain.records import Account, ObjectType
from tests.connectors.sf_cassettes import MODE, recorded

BOGUS_USER = "005000000000999AAA"


def create(sf: SalesforceConnector, sobject: str, rows: Sequence[dict[str, Any]]) -> list[str]:
    """Set-up records through sObject Collections (recorded with the rest)."""
    ids = []
    for batch in chunks(rows):
        answers = sf._client.collections("POST", [{"attributes": {"type": sobject}, **r} for r in batch], retry=False)
        ids += [str(a["id"]) for a in answers]
    return ids


def a_user(sf: SalesforceConnector) -> str:
    return next(o.id for o in sf.owners() if o.active and not o.is_queue)


def test_sync_streams_pages_and_reads_changes_with_query_all(tmp_path: Path) -> None:
    """A first sync pages through 210 new accounts; a sync from a watermark goes through queryAll."""
    with recorded("sync", tmp_path) as sf:
        owner = a_user(sf)
        ids = create(sf, "Account", [{"Name": f"Cassette Account {n:03d}", "OwnerId": owner} for n in range(210)])
        synced = {a.id for a in sf.iter_changed(ObjectType.ACCOUNT, None)}
        changed = list(sf.iter_changed(ObjectType.ACCOUNT, datetime(2000, 1, 1, tzinfo=UTC)))
    assert set(ids) <= synced and set(ids) <= {a.id for a in changed}
    assert all(isinstance(a, Account) and not a.deleted for a in changed)
    assert sf.usage.calls["read"] >= 6


def test_writes_report_each_record_and_task_creation_is_idempotent(tmp_path: Path) -> None:
    """One refused update names its record; creating the same tasks twice returns the same ids."""
    with recorded("writes", tmp_path) as sf:
        owner = a_user(sf)
        good, bad = create(sf, "Account", [{"Name": "Cassette Writes A", "OwnerId": owner},
                                           {"Name": "Cassette Writes B", "OwnerId": owner}])
        results = sf.update([RecordUpdate("ok", ObjectType.ACCOUNT, good, {"phone": "+1 555 0100"}),
                             RecordUpdate("no", ObjectType.ACCOUNT, bad, {"owner_id": BOGUS_USER})])
        tasks = [NewTask(f"cassette:{n}", f"Call {n}", owner, date(2026, 5, 4), what_id=good) for n in range(2)]
        first, again = sf.create_tasks(tasks), sf.create_tasks(tasks)
    assert results[0].ok and not results[1].ok and bad in str(results[1].error)
    assert all(r.ok for r in first) and [r.record_id for r in again] == [r.record_id for r in first]


def test_merge_and_restore_through_soap(tmp_path: Path) -> None:
    """A merge moves the loser's contact; restore brings the loser and the contact link back."""
    with recorded("merge", tmp_path) as sf:
        owner = a_user(sf)
        master, loser = create(sf, "Account", [{"Name": "Cassette Merge", "OwnerId": owner},
                                               {"Name": "Cassette Merge Inc.", "OwnerId": owner}])
        create(sf, "Contact", [{"LastName": "Cassette", "AccountId": loser, "OwnerId": owner}])
        before = sf.snapshot(ObjectType.ACCOUNT, [master, loser])
        merged = sf.merge(ObjectType.ACCOUNT, master, [loser])
        sf.restore(before)
        after = sf.snapshot(ObjectType.ACCOUNT, [master, loser])
    assert merged.ok and merged.merged_ids == (loser,)
    assert [s.children for s in after] == [s.children for s in before]
    assert [s.data["Name"] for s in after] == ["Cassette Merge", "Cassette Merge Inc."]


def test_limits_fill_in_the_daily_allowance(tmp_path: Path) -> None:
    """``/limits`` gives the org's daily maximum and what remains of it."""
    with recorded("limits", tmp_path) as sf:
        usage = sf.refresh_limits()
    assert usage.daily_limit and usage.daily_remaining is not None and usage.daily_remaining <= usage.daily_limit


@pytest.mark.skipif(bool(MODE), reason="only a replay can miss a recording")
def test_a_request_missing_from_the_cassette_fails(tmp_path: Path) -> None:
    """A call the cassette does not hold raises instead of reaching the network."""
    with pytest.raises(CannotOverwriteExistingCassetteException), recorded("limits", tmp_path) as sf:
        sf.refresh_limits()
        sf.owners()
