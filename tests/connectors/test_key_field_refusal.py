"""A run in an org without the task key field refuses to create tasks, in one line, instead of failing each one."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from config.policy_file import load_policy
from config.settings import PACKAGED_POLICY
from domain.records import Record
from jobs.pipeline import run_job
from store.db import session_factory
from tests.connectors.hubspot_fixtures import SecondsClock, connect
from tests.connectors.test_hubspot_plan import NOW, org, store
from tests.servers.hubspot.portal import Portal
from tests.servers.hubspot.records import load
from tests.servers.hubspot.server import HubSpotServer, Limits

__all__ = ["org"]


def test_a_hubspot_run_without_the_key_property_refuses_before_any_write(org: list[Record], tmp_path: Path) -> None:
    """No action is failed and nothing is written: the run stops with doctor's one-line message."""
    portal = Portal()
    custom = load(portal, org)
    clock = SecondsClock()
    engine = store(tmp_path / "hubspot.db")
    with HubSpotServer(portal, Limits(burst=10_000), clock=clock) as server:
        hubspot = connect(server, clock, burst=10_000, custom_properties=custom)
        before = {k: {i: dict(o.properties) for i, o in objs.items()} for k, objs in portal.objects.items()}
        result = run_job("all", connector=hubspot, connection="hubspot", policy=load_policy(PACKAGED_POLICY),
                         sessions=session_factory(engine), now=NOW, apply=True)
        after = {k: {i: dict(o.properties) for i, o in objs.items()} for k, objs in portal.objects.items()}
        assert server.requests("POST /crm/v3/objects/tasks/batch/create") == 0
    engine.dispose()
    statuses = Counter(a.status for a in result.actions)
    assert "failed" not in statuses and statuses["planned"] == len(result.actions) > 0
    assert after == before
    assert len(result.errors) == 1 and "no property 'warden_key'" in result.errors[0]
    assert "warden doctor --fix" in result.errors[0] and "\n" not in result.errors[0]
