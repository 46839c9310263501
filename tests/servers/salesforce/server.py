"""A local HTTPS server that speaks Salesforce's wire format (../shared/API-FACTS.md) over an ``Org``.

Endpoints: OAuth token (client credentials, JWT bearer), query/queryAll with ``nextRecordsUrl``
paging, ``composite`` (GET subrequests, at most 25 with 5 queries, one API call),
``/limits`` and the ``Sforce-Limit-Info`` header, sObject Collections POST/PATCH with
per-record failures, SOAP ``merge`` and ``undelete``. Faults are queued with ``fail_next`` and fire
on the next matching request (optionally after the request took effect, as a lost answer does);
``expire_sessions`` makes every issued token fail with ``INVALID_SESSION_ID``.
"""

from __future__ import annotations

import json
import re
import ssl
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt
import trustme

from tests.servers.salesforce import metadata as sf_metadata
from tests.servers.salesforce import soap as sf_soap_server
from tests.servers.salesforce.bulk import BulkJobs, Raw
from tests.servers.salesforce.org import Org, Refused
from tests.servers.salesforce.pages import RAW_PAGES

VERSIONS = [("57.0", "Spring '23"), ("58.0", "Summer '23"), ("59.0", "Winter '24"), ("60.0", "Spring '24"),
            ("61.0", "Summer '24"), ("62.0", "Winter '25")]
API = re.compile(r"^/services/data/v(?P<version>[\d.]+)/(?P<rest>.*?)/?$")
ERROR_TEXT = {
    "INVALID_SESSION_ID": (401, "Session expired or invalid"),
    "REQUEST_LIMIT_EXCEEDED": (403, "TotalRequests Limit exceeded."),
    "UNABLE_TO_LOCK_ROW": (400, "unable to obtain exclusive access to this record"),
    "SERVER_UNAVAILABLE": (503, "Service temporarily unavailable"),
    "CONNECTION_RESET": (0, "the connection drops without an answer"),
}


@dataclass
class Fault:
    code: str
    path: str = ""
    """Fire only on requests whose path contains this (``query``, ``composite``, ``Soap``...)."""
    after: bool = False
    """Let the request take effect, then answer with the fault (a lost response)."""


@dataclass
class FakeSalesforce:
    org: Org = field(default_factory=Org)
    client_id: str = "test-client"
    client_secret: str = "test-secret"
    jwt_public_key: str | None = None
    api_max: int = 15000
    api_used: int = 0
    latency: float = 0.0
    faults: list[Fault] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)
    url: str = ""
    tokens: set[str] = field(default_factory=set)
    bulk: BulkJobs = field(default_factory=BulkJobs)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, code: str, path: str = "", *, after: bool = False, times: int = 1) -> None:
        self.faults.extend(Fault(code, path, after) for _ in range(times))

    def expire_sessions(self) -> None:
        self.tokens.clear()

    def issue_token(self) -> dict[str, Any]:
        token = f"00D000000000001!AR8.{len(self.tokens) + 1:06d}"
        self.tokens.add(token)
        return {"access_token": token, "instance_url": self.url, "id": f"{self.url}/id/00D000000000001/005",
                "token_type": "Bearer", "issued_at": "1777622400000", "signature": "c2lnbmF0dXJl"}

    def take_fault(self, path: str) -> Fault | None:
        fault = next((f for f in self.faults if f.path in path), None)
        if fault is not None:
            self.faults.remove(fault)
        return fault


class Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        fake = self.server.fake
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if fake.latency:
            time.sleep(fake.latency)
        path = urlparse(self.path).path
        with fake.lock:
            fake.requests[f"{method} {_kind(path)}"] += 1
            status, headers, payload = self._route(fake, method, path, body)
        if status == 0:
            self.close_connection = True
            return
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _route(self, fake: FakeSalesforce, method: str, path: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        if path == "/services/oauth2/token" and (fault := fake.take_fault(path)) and fault.code in RAW_PAGES:
            status, content_type, page = RAW_PAGES[fault.code]
            return status, {"Content-Type": content_type}, page
        if path == "/services/oauth2/token":
            return _token(fake, parse_qs(body.decode()))
        if path.startswith("/services/Soap/u/"):
            return sf_soap_server.handle(fake, self.headers.get("SOAPAction", ""), body)
        if path.startswith("/services/Soap/m/"):
            return sf_soap_server.handle_metadata(fake, body)
        if self.headers.get("Authorization", "").removeprefix("Bearer ") not in fake.tokens:
            return _error(*ERROR_TEXT["INVALID_SESSION_ID"], "INVALID_SESSION_ID")
        fault = fake.take_fault(path)
        if fault and fault.code in RAW_PAGES:
            status, content_type, page = RAW_PAGES[fault.code]
            return status, {"Content-Type": content_type}, page
        if fault and not fault.after:
            return _error(*ERROR_TEXT[fault.code], fault.code)
        fake.api_used += 1
        if fake.api_used > fake.api_max:
            return _error(*ERROR_TEXT["REQUEST_LIMIT_EXCEEDED"], "REQUEST_LIMIT_EXCEEDED")
        if path.rstrip("/") == "/services/data":
            versions = [{"label": label, "url": f"/services/data/v{v}", "version": v} for v, label in VERSIONS]
            return 200, {"Content-Type": "application/json;charset=UTF-8"}, json.dumps(versions).encode()
        match = API.match(path)
        if match and match["version"] not in dict(VERSIONS):
            return _error(404, "The requested resource does not exist", "NOT_FOUND")
        try:
            status, answer = _rest(fake, method, match["rest"] if match else "", self.path, body, self.headers)
        except Refused as exc:
            return _error(exc.status, exc.message, exc.code)
        if fault:
            return _error(*ERROR_TEXT[fault.code], fault.code)
        limit_info = {"Sforce-Limit-Info": f"api-usage={fake.api_used}/{fake.api_max}"}
        if isinstance(answer, Raw):
            return status, {**answer.headers, **limit_info}, answer.body
        return status, {"Content-Type": "application/json;charset=UTF-8", **limit_info}, json.dumps(answer).encode()


def _kind(path: str) -> str:
    if path.rstrip("/").endswith("/composite"):
        return "composite request"  # subrequests (our reads); "composite" counts sObject Collections writes
    for kind in ("oauth2", "Soap", "jobs", "queryAll", "query", "composite", "limits"):
        if kind in path:
            return kind
    return "other"


def _error(status: int, message: str, code: str) -> tuple[int, dict[str, str], bytes]:
    payload = [{"message": message, "errorCode": code, "fields": []}]
    return status, {"Content-Type": "application/json;charset=UTF-8"}, json.dumps(payload).encode()


def _token(fake: FakeSalesforce, form: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
    grant = form.get("grant_type", [""])[0]
    ok = grant == "client_credentials" and form.get("client_id") == [fake.client_id] and form.get(
        "client_secret") == [fake.client_secret]
    if grant.endswith("jwt-bearer") and fake.jwt_public_key:
        try:
            claims = jwt.decode(form["assertion"][0], fake.jwt_public_key, algorithms=["RS256"], audience=fake.url)
            ok = claims["iss"] == fake.client_id
        except jwt.PyJWTError:
            ok = False
    if not ok:
        payload = {"error": "invalid_client", "error_description": "invalid client credentials"}
        return 400, {"Content-Type": "application/json"}, json.dumps(payload).encode()
    return 200, {"Content-Type": "application/json"}, json.dumps(fake.issue_token()).encode()


def _rest(fake: FakeSalesforce, method: str, rest: str, raw_path: str, body: bytes, headers: Any) -> tuple[int, Any]:
    org = fake.org
    if rest == "limits":
        return 200, {"DailyApiRequests": {"Max": fake.api_max, "Remaining": fake.api_max - fake.api_used}}
    if rest in ("query", "queryAll"):
        soql = parse_qs(urlparse(raw_path).query)["q"][0]
        rows = org.query(soql, include_deleted=rest == "queryAll")
        return 200, _page(org, rows, _batch_size(org, headers), rest)
    if rest.startswith(("query/", "queryAll/")):
        cursor, offset = rest.split("/", 1)[1].rsplit("-", 1)
        if cursor not in org.cursors:
            raise Refused(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return 200, _page(org, org.cursors[cursor], _batch_size(org, headers), rest.split("/")[0], cursor, int(offset))
    if rest == "jobs/query" and method == "POST":
        return 200, fake.bulk.create(org, body)
    if rest.startswith("jobs/query/") and rest.endswith(("/results", "/resultPages")):
        query = parse_qs(urlparse(raw_path).query)
        locator = query.get("locator", [""])[0]
        if rest.endswith("/resultPages"):
            version = API.match(urlparse(raw_path).path)["version"]  # type: ignore[index]
            return 200, fake.bulk.result_pages(rest.split("/")[2], version, locator)
        max_records = int(query["maxRecords"][0]) if "maxRecords" in query else None
        return 200, fake.bulk.results(rest.split("/")[2], max_records, locator)
    if rest.startswith("jobs/query/"):
        return 200, fake.bulk.status(rest.split("/")[2])
    if rest == "composite" and method == "POST":
        return 200, _composite(fake, json.loads(body)["compositeRequest"], headers)
    if rest.startswith("sobjects/") and rest.endswith("/describe"):
        sobject = rest.split("/")[1]
        if sobject not in org.schema or not org.may(sobject, "read"):
            raise Refused(404, "NOT_FOUND", f"The requested resource does not exist: {raw_path}")
        return 200, sf_metadata.describe(org, sobject)
    if rest.startswith("ui-api/object-info/Opportunity/picklist-values/"):
        record_type, field_name = rest.split("/")[-2:]
        return 200, sf_metadata.picklist_values(org, record_type, field_name)
    if rest == "composite/sobjects" and method in ("POST", "PATCH"):
        records = json.loads(body)["records"]
        if len(records) > 200:
            raise Refused(400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records")
        return 200, [org.write(method, record) for record in records]
    if rest == "composite/sobjects" and method == "DELETE":
        query = parse_qs(urlparse(raw_path).query)
        ids = query.get("ids", [""])[0].split(",")
        if len(ids) > 200:
            raise Refused(400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records")
        return 200, [org.delete(record_id) for record_id in ids]
    raise Refused(404, "NOT_FOUND", f"The requested resource does not exist: {raw_path}")


COMPOSITE_MAX, COMPOSITE_MAX_QUERIES = 25, 5


def _composite(fake: FakeSalesforce, subrequests: list[dict[str, Any]], headers: Any) -> dict[str, Any]:
    """``POST composite``: up to 25 subrequests, at most 5 of them queries, answered in one body (one API call)."""
    queries = sum(1 for sub in subrequests if "/query" in sub["url"])
    if len(subrequests) > COMPOSITE_MAX or queries > COMPOSITE_MAX_QUERIES:
        raise Refused(400, "LIMIT_EXCEEDED", f"composite accepts {COMPOSITE_MAX} subrequests, of which "
                      f"{COMPOSITE_MAX_QUERIES} queries; got {len(subrequests)} with {queries} queries")
    answers = []
    for sub in subrequests:
        match = API.match(urlparse(sub["url"]).path)
        sub_headers = {**dict(headers.items()), **sub.get("httpHeaders", {})}
        try:
            if sub.get("method", "GET") != "GET" or not match:
                raise Refused(400, "INVALID_URL", f"this server takes GET subrequests only: {sub['url']}")
            status, answer = _rest(fake, "GET", match["rest"], sub["url"], b"", sub_headers)
        except Refused as exc:
            status, answer = exc.status, [{"message": exc.message, "errorCode": exc.code}]
        answers.append({"body": answer, "httpHeaders": {}, "httpStatusCode": status, "referenceId": sub["referenceId"]})
    return {"compositeResponse": answers}


def _batch_size(org: Org, headers: Any) -> int:
    options = headers.get("Sforce-Query-Options", "")
    wanted = int(options.split("=")[1]) if "batchSize=" in options else 2000
    return min(max(200, wanted), org.max_page)


def _page(org: Org, rows: list[dict[str, Any]], size: int, endpoint: str, cursor: str = "", offset: int = 0) -> Any:
    page = {"totalSize": len(rows), "done": offset + size >= len(rows), "records": rows[offset : offset + size]}
    if not page["done"]:
        if not cursor:
            cursor = f"01g{len(org.cursors) + 1:015d}"
            org.cursors[cursor] = rows
        page["nextRecordsUrl"] = f"/services/data/v59.0/{endpoint}/{cursor}-{offset + size}"
    return page


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeSalesforce


@contextmanager
def serve(
    fake: FakeSalesforce | None = None, *, ca_dir: Path, port: int = 0
) -> Iterator[tuple[FakeSalesforce, str]]:
    """Run the server on localhost (a free port by default); yields the fake and the CA bundle path to trust."""
    fake = fake or FakeSalesforce()
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    server = _Server(("127.0.0.1", port), Handler)
    server.fake = fake
    server.socket = context.wrap_socket(server.socket, server_side=True)
    fake.url = f"https://localhost:{server.server_address[1]}"
    bundle = ca_dir / "sf-test-ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake, str(bundle)
    finally:
        server.shutdown()
        server.server_close()
