"""The job runner's connector wrappers keep the traits the mirror's sync relies on."""

from __future__ import annotations

from typing import cast

import pytest
from sqlalchemy import Engine

from config.policy_file import parse_policy
from domain.connector import ApiUsage, Connector
from domain.records import ObjectType
from jobs.aliases import with_aliases
from jobs.shutdown import ShutdownFlag, StoppingConnector
from store import mirror
from store.db import session_factory
from store.watermarks import get_watermark
from tests.store.fake_reader import FakeReader, task

POLICY = """\
stages:
  opportunity: [{name: Discovery}, {name: Closed Lost, closed: true}]
  aliases:
    hubspot: {"Appointment Scheduled": Discovery}
"""


class IdOrderReader(FakeReader):
    """Lists records in id order on a first sync, as HubSpot's list endpoints do."""

    name = "hubspot"
    first_sync_in_change_order = False
    reads_over_network = False

    def __init__(self) -> None:
        super().__init__()
        self.usage = ApiUsage()


@pytest.mark.parametrize("aliased", [False, True], ids=["stopping", "stopping+aliases"])
def test_interrupted_first_sync_in_id_order_through_the_wrappers_sets_no_watermark(
    engine: Engine, aliased: bool
) -> None:
    """A HubSpot first sync cut off midway must not leave a watermark behind records it never read."""
    inner = IdOrderReader()
    inner.put(*(task(n, minutes=n) for n in range(10)))
    inner.fail_after = 7
    wrapped: Connector = StoppingConnector(cast(Connector, inner), ShutdownFlag())
    if aliased:
        wrapped = with_aliases(wrapped, parse_policy(POLICY))
    with pytest.raises(ConnectionError):
        mirror.sync(wrapped, engine, "hubspot", [ObjectType.TASK], chunk_size=3)
    with session_factory(engine)() as session:
        assert get_watermark(session, "hubspot", ObjectType.TASK) is None
