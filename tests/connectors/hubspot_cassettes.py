"""HubSpot cassettes: the scenarios they hold, and how they are recorded and replayed.

Recording runs each scenario against the local server (``python -m tests.connectors.hubspot_cassettes``)
and writes ``cassettes/hubspot/<scenario>.yaml`` with the host rewritten to ``https://api.hubapi.com``,
the Authorization header dropped and every token or secret in a body replaced by ``REDACTED``.
Replaying runs the same scenario against ``https://api.hubapi.com`` with ``record_mode="none"``: an
unrecorded request fails, and the test checks every recorded request was played.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import vcr
from pydantic import SecretStr

from connectors.hubspot import HubSpotConnector, HubSpotSettings
from domain.connector import NewTask, RecordUpdate
from domain.records import ObjectType
from tests.connectors.hubspot_fixtures import SecondsClock
from tests.servers.hubspot.portal import Portal
from tests.servers.hubspot.seed import Seeded, seed
from tests.servers.hubspot.server import Fault, HubSpotServer, Limits

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "hubspot"
HUBSPOT = "https://api.hubapi.com"
SECRET_FIELDS = ("access_token", "refresh_token", "client_secret")
Scenario = Callable[[HubSpotConnector], Any]


def _scrub_text(text: str) -> str:
    for name in SECRET_FIELDS:
        text = re.sub(rf'("{name}":\s*")[^"]*(")', r"\1REDACTED\2", text)
    return text


def _scrub_request(request: Any) -> Any:
    request.uri = re.sub(r"^http://127\.0\.0\.1:\d+", HUBSPOT, request.uri)
    if request.body and request.path.startswith("/oauth/"):
        form = [(k, "REDACTED" if k in SECRET_FIELDS else v) for k, v in parse_qsl(request.body.decode())]
        request.body = urlencode(form).encode()
    return request


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    body = response["body"]["string"]
    if body:
        response["body"]["string"] = scrubbed = _scrub_text(body.decode()).encode()
        response["headers"]["Content-Length"] = [str(len(scrubbed))]
    return response


def cassette_vcr(record_mode: str) -> vcr.VCR:
    return vcr.VCR(cassette_library_dir=str(CASSETTES), record_mode=record_mode, filter_headers=["authorization"],
                   before_record_request=_scrub_request, before_record_response=_scrub_response,
                   match_on=["method", "scheme", "host", "port", "path", "query", "body"])


def connector(api_base: str, clock: SecondsClock, secret: str) -> HubSpotConnector:
    """A connector with OAuth refresh configured; ``secret`` is the refresh token and client secret."""
    settings = HubSpotSettings(access_token=SecretStr("test-token"), api_base=api_base, client_id="app",
                               client_secret=SecretStr(secret), refresh_token=SecretStr(secret), burst_limit=100)
    return HubSpotConnector.from_settings(settings, clock=clock, sleep=clock.sleep)


def seeded_portal() -> tuple[Portal, Seeded]:
    """The same small portal every time: ids and timestamps are deterministic."""
    ticks = iter(range(1_767_225_600_000, 1_767_225_600_000 + 10**9, 1000))
    portal = Portal(clock_ms=lambda: next(ticks))
    return portal, seed(portal, 3, contacts_per=2, notes_per=1)


def first_sync(crm: HubSpotConnector) -> dict[str, int]:
    counts = {t.value: sum(1 for _ in crm.iter_changed(t, None)) for t in ObjectType if t is not ObjectType.OWNER}
    return {"owner": len(crm.owners()), **counts}


def incremental_sync(crm: HubSpotConnector) -> list[str]:
    return [d.id for d in crm.iter_changed(ObjectType.OPPORTUNITY, datetime(2026, 1, 1, tzinfo=UTC))]


def batch_update(crm: HubSpotConnector) -> list[bool]:
    updates = [RecordUpdate("a", ObjectType.OPPORTUNITY, "5000000004", {"stage": "Closed Lost"}),
               RecordUpdate("b", ObjectType.OPPORTUNITY, "999", {"amount": 1})]
    return [r.ok for r in crm.update(updates)]


def create_tasks(crm: HubSpotConnector) -> list[str | None]:
    tasks = [NewTask(f"sla:{n}", "Act on this deal", "32900489", date(2026, 3, 3), what_id="5000000004")
             for n in range(2)]
    first = crm.create_tasks(tasks)
    return [r.record_id for r in first + crm.create_tasks(tasks)]


def merge_and_restore(crm: HubSpotConnector) -> bool:
    ids = ["5000000001", "5000000007"]
    snapshots = crm.snapshot(ObjectType.ACCOUNT, ids)
    merged = crm.merge(ObjectType.ACCOUNT, ids[0], ids[1:])
    crm.restore(snapshots)
    return merged.ok


def throttled_and_expired(crm: HubSpotConnector) -> int:
    return len(crm.owners())


SCENARIOS: dict[str, Scenario] = {f.__name__: f for f in (
    first_sync, incremental_sync, batch_update, create_tasks, merge_and_restore, throttled_and_expired)}
FAULTS = {"throttled_and_expired": [Fault("/crm/v3/owners", "429"), Fault("/crm/v3/owners", "401", skip=1)]}


def record(name: str) -> Any:
    """Run one scenario against a fresh local server and write its cassette."""
    portal, _ = seeded_portal()
    clock = SecondsClock()
    with HubSpotServer(portal, Limits(), clock=clock) as server:
        server.state.faults.extend(FAULTS.get(name, []))
        (CASSETTES / f"{name}.yaml").unlink(missing_ok=True)
        with cassette_vcr("all").use_cassette(f"{name}.yaml"):
            return SCENARIOS[name](connector(server.url, clock, "test-refresh"))


def replay(name: str) -> tuple[Any, bool]:
    """Run one scenario from its cassette; the result and whether every recorded request was played."""
    clock = SecondsClock()
    with cassette_vcr("none").use_cassette(f"{name}.yaml", allow_playback_repeats=False) as cassette:
        result = SCENARIOS[name](connector(HUBSPOT, clock, "REDACTED"))
        return result, cassette.all_played


if __name__ == "__main__":
    CASSETTES.mkdir(parents=True, exist_ok=True)
    for scenario in SCENARIOS:
        print(scenario, json.dumps(record(scenario)))
