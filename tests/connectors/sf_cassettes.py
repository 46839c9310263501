"""vcrpy set-up for the Salesforce cassettes: scrubbing, matching, and where recordings come from.

``WARDEN_RECORD_CASSETTES`` picks the source: unset replays ``cassettes/salesforce/`` with
``record_mode="none"`` (an unmatched request fails the test); ``local`` re-records against the local
HTTPS fake; ``sandbox`` re-records against the org in the ``SALESFORCE_*`` settings. Tokens, client
secrets, JWT assertions, SOAP session ids and the instance host never reach a cassette.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import requests
import vcr

from connectors.salesforce import SalesforceConnector, SalesforceSettings
from tests.servers.salesforce.org import Org
from tests.servers.salesforce.server import FakeSalesforce, serve

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "salesforce"
MODE = os.environ.get("WARDEN_RECORD_CASSETTES", "")
REPLAY_HOST = "https://example.my.salesforce.com"
HOST = re.compile(r"^https://[^/]+")
SESSION_ID = re.compile(rb"<(\w+:)?sessionId>[^<]*</(\w+:)?sessionId>")


def scrub_request(request: Any) -> Any:
    """Keep only the grant type of a token request, blank the SOAP session id, hide the host."""
    request.uri = HOST.sub(REPLAY_HOST, request.uri)
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode()
    if request.path.endswith("/oauth2/token"):
        grant = parse_qs(body.decode()).get("grant_type", [""])[0]
        request.body = f"grant_type={grant}".encode()
    elif b"sessionId>" in body:
        request.body = SESSION_ID.sub(b"<urn:sessionId>REDACTED</urn:sessionId>", body)
    return request


def scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    """Replace the access token, identity URL, signature and instance host in token answers."""
    raw = response["body"]["string"]
    text = raw.decode() if isinstance(raw, bytes) else raw
    if '"access_token"' in text:
        token = json.loads(text)
        token.update(access_token="REDACTED", instance_url=REPLAY_HOST, id=f"{REPLAY_HOST}/id/REDACTED",
                     signature="REDACTED")
        response["body"]["string"] = json.dumps(token).encode()
    return response


def recorder() -> vcr.VCR:
    return vcr.VCR(
        cassette_library_dir=str(CASSETTES),
        record_mode="all" if MODE else "none",
        match_on=["method", "path", "query", "body"],
        filter_headers=["authorization"],
        before_record_request=scrub_request,
        before_record_response=scrub_response,
        decode_compressed_response=True,
    )


def seed_people(org: Org) -> None:
    """The users and queue a sandbox already has; everything else the scenarios create themselves."""
    manager = org.add("User", Name="Mia Manager", Email="mia@example.com", IsActive=True)
    org.add("User", Name="Rex Rep", Email="rex@example.com", IsActive=True, ManagerId=manager)
    org.add("Group", Name="Marketing Queue", Type="Queue")


@contextmanager
def recorded(name: str, ca_dir: Path) -> Iterator[SalesforceConnector]:
    """A connector whose every request goes through cassette ``name``; on replay every recording must be used."""
    with recorder().use_cassette(f"{name}.yaml") as cassette:
        if MODE == "local":
            with serve(FakeSalesforce(), ca_dir=ca_dir) as (fake, bundle):
                seed_people(fake.org)
                http = requests.Session()
                http.trust_env, http.verify = False, bundle
                yield SalesforceConnector.from_settings(_settings(fake.url), http=http, sleep=_no_wait, page_size=200)
            return
        settings = SalesforceSettings() if MODE == "sandbox" else _settings("https://login.example.com")
        yield SalesforceConnector.from_settings(settings, sleep=_no_wait, page_size=200)
        if not MODE:
            assert cassette.all_played, f"cassette {name}.yaml holds requests the connector no longer makes"


def _settings(login_url: str) -> SalesforceSettings:
    return SalesforceSettings(login_url=login_url, client_id="test-client", client_secret="test-secret",
                              instance_url=None, access_token=None, username=None, private_key_file=None)


def _no_wait(_: float) -> None:
    """Replays and local recordings never need to wait out a back-off."""
