"""LocalCRM: the connector contract, plus what only the embedded CRM does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.base import RecordUpdate
from connectors.errors import FatalConnectorError
from connectors.local import LocalCRM
from connectors.local_schema import utc_text
from connectors.records import ObjectType
from tests.connectors.contract import CONTRACT_START, ConnectorContract, ContractCRM, FakeClock, known_org


class TestLocalContract(ConnectorContract):
    @pytest.fixture
    def crm(self, tmp_path: Path) -> Iterator[ContractCRM]:
        clock = FakeClock(CONTRACT_START)
        connector = LocalCRM(tmp_path / "crm.db", clock=clock, page_size=2, batch_size=2)
        connector.insert_records(known_org(CONTRACT_START))
        yield ContractCRM(connector, clock, page_size=2, batch_size=2)
        connector.close()


def test_from_url_opens_the_file_and_creates_its_folder(tmp_path: Path) -> None:
    """A sqlite:/// URL opens (and creates) the CRM file, folders included."""
    crm = LocalCRM.from_url(f"sqlite:///{tmp_path}/nested/crm.db")
    assert crm.count(ObjectType.ACCOUNT) == 0
    assert (tmp_path / "nested" / "crm.db").exists()


def test_from_url_rejects_other_schemes() -> None:
    """A non-SQLite URL fails with a message naming the setting to fix."""
    with pytest.raises(FatalConnectorError, match="WARDEN_LOCAL_CRM_URL"):
        LocalCRM.from_url("postgresql://localhost/crm")


def test_count_leaves_out_merged_away_records(tmp_path: Path) -> None:
    """count() reports live records only, so a merge lowers it."""
    crm = LocalCRM(tmp_path / "crm.db", clock=lambda: CONTRACT_START)
    crm.insert_records(known_org(CONTRACT_START))
    assert crm.count(ObjectType.ACCOUNT) == 5
    crm.merge(ObjectType.ACCOUNT, "acc-1", ["acc-2"])
    assert crm.count(ObjectType.ACCOUNT) == 4


def test_custom_fields_survive_reopening(tmp_path: Path) -> None:
    """Custom fields learned when seeding stay settable after the file is reopened."""
    LocalCRM(tmp_path / "crm.db").insert_records(known_org(CONTRACT_START))
    reopened = LocalCRM(tmp_path / "crm.db")
    (result,) = reopened.update([RecordUpdate("k", ObjectType.ACCOUNT, "acc-1", {"tier": "silver"})])
    assert result.ok, result.error


def test_naive_clock_is_refused(tmp_path: Path) -> None:
    """A clock that returns naive datetimes is an error that says to pass aware ones."""
    crm = LocalCRM(tmp_path / "crm.db", clock=lambda: datetime(2026, 1, 1))
    crm.insert_records(known_org(CONTRACT_START))
    with pytest.raises(ValueError, match="timezone-aware"):
        crm.update([RecordUpdate("k", ObjectType.ACCOUNT, "acc-1", {"name": "x"})])


AWARE = st.datetimes(
    min_value=datetime(1900, 1, 2), max_value=datetime(9000, 1, 1), timezones=st.timezones()
)


@given(AWARE, AWARE)
def test_stored_datetime_text_sorts_like_time(first: datetime, second: datetime) -> None:
    """Stored datetime text orders the same way as the instants it encodes, whatever the zone."""
    first_utc, second_utc = first.astimezone(UTC), second.astimezone(UTC)
    assert (utc_text(first) < utc_text(second)) == (first_utc < second_utc)
    assert (utc_text(first) == utc_text(second)) == (first_utc == second_utc)
