"""The same org on the embedded CRM and behind the Salesforce connector gives the same plan."""

from collections.abc import Iterator
from dataclasses import fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.local import LocalCRM
from demo.org import seed_demo
from domain.records import ObjectType, Record
from tests.connectors.plan_support import NOW, comparable, plan, store
from tests.connectors.sf_fixtures import connect, fake, sf_server
from tests.servers.salesforce.org import Org
from tests.servers.salesforce.records import custom_fields, load
from tests.servers.salesforce.server import FakeSalesforce

__all__ = ["fake", "sf_server"]



def to_milliseconds(record: Record) -> Record:
    """Salesforce keeps datetimes to the millisecond, so the same org has no microseconds."""
    changes: dict[str, Any] = {f.name: v.replace(microsecond=v.microsecond // 1000 * 1000)
               for f in fields(record) if isinstance(v := getattr(record, f.name), datetime)}
    return replace(record, **changes)


@pytest.fixture
def local(tmp_path: Path) -> Iterator[LocalCRM]:
    demo = LocalCRM(tmp_path / "demo.db", clock=lambda: NOW)
    seed_demo(demo, NOW)
    crm = LocalCRM(tmp_path / "crm.db", clock=lambda: NOW)
    crm.insert_records(to_milliseconds(r) for obj in ObjectType for r in demo.iter_changed(obj, None))
    demo.close()
    yield crm
    crm.close()


def test_the_demo_org_plans_the_same_on_salesforce_as_on_the_embedded_crm(
    local: LocalCRM, fake: FakeSalesforce, sf_server: tuple[FakeSalesforce, str], tmp_path: Path
) -> None:
    """Every finding and planned action matches, record for record, between the two CRMs."""
    records: list[Record] = [r for obj in ObjectType for r in local.iter_changed(obj, None)]
    fields = custom_fields(records)
    fake.org = Org(clock=lambda: NOW)
    load(fake.org, records, fields)
    salesforce = connect(fake, sf_server[1], fields=fields)
    engines = store(tmp_path / "local.db"), store(tmp_path / "salesforce.db")
    on_local, on_salesforce = plan(local, "local", engines[0]), plan(salesforce, "salesforce", engines[1])
    for engine in engines:
        engine.dispose()
    assert on_local.actions and not on_salesforce.errors and not on_salesforce.stopped
    assert sorted((f.rule, f.record_id) for f in on_salesforce.findings) == sorted(
        (f.rule, f.record_id) for f in on_local.findings)
    assert comparable(on_salesforce) == comparable(on_local)

