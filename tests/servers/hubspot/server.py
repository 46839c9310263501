"""A local HTTP server that speaks HubSpot's CRM v3/v4 wire format, for tests, cassettes and the bench.

It enforces the portal's rolling burst limit (429 ``TEN_SECONDLY_ROLLING`` with HubSpot's body and
rate headers), the search API's per-second limit, a daily budget, bearer-token expiry with OAuth
refresh, and injected faults: error statuses, and connections dropped before or after the request
took effect. Every request is counted by route.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.servers.hubspot.api import ROUTES
from tests.servers.hubspot.portal import Portal, PortalError, Reply


@dataclass
class Fault:
    """Misbehave on requests whose path contains ``path``: ``kind`` is a status code, ``drop_before``,
    ``drop_after``, ``429``, ``daily``, ``401`` or one of ``RAW_PAGES`` (a body that is not JSON, as a
    gateway or load balancer sends); ``skip`` matching requests pass first."""

    path: str
    kind: str
    times: int = 1
    skip: int = 0
    method: str | None = None


@dataclass
class Limits:
    burst: int = 100
    interval_s: float = 10.0
    search_per_s: int = 5
    search_interval_s: float = 1.0
    daily: int = 250_000
    enforce: bool = True


@dataclass
class ServerState:
    portal: Portal
    limits: Limits
    clock: Callable[[], float]
    latency_s: float = 0.0
    tokens: set[str] = field(default_factory=lambda: {"test-token"})
    refresh_token: str = "test-refresh"
    faults: list[Fault] = field(default_factory=list)
    scopes: set[str] | None = None
    """The scopes the app's token was granted (None: every scope); others are refused with 403 MISSING_SCOPES."""
    counts: Counter[str] = field(default_factory=Counter)
    throttled: int = 0
    window: deque[float] = field(default_factory=deque)
    search_window: deque[float] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.path in path and fault.method in (None, method) and fault.times > 0:
                    if fault.skip:
                        fault.skip -= 1
                        return None
                    fault.times -= 1
                    return fault
        return None

    def admit(self, is_search: bool) -> tuple[str | None, dict[str, str]]:
        """Count one request; the policy it breaks (if any) and the rate headers to send."""
        with self.lock:
            now, limits = self.clock(), self.limits
            while self.window and self.window[0] <= now - limits.interval_s:
                self.window.popleft()
            while self.search_window and self.search_window[0] <= now - limits.search_interval_s:
                self.search_window.popleft()
            total = sum(self.counts.values())
            if limits.enforce and total >= limits.daily:
                return "DAILY", {}
            if limits.enforce and len(self.window) >= limits.burst:
                return "TEN_SECONDLY_ROLLING", {}
            if limits.enforce and is_search and len(self.search_window) >= limits.search_per_s:
                return "SECONDLY", {}
            self.window.append(now)
            if is_search:
                self.search_window.append(now)
                return None, {}
            return None, {
                "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(limits.interval_s * 1000)),
                "X-HubSpot-RateLimit-Max": str(limits.burst),
                "X-HubSpot-RateLimit-Remaining": str(limits.burst - len(self.window)),
                "X-HubSpot-RateLimit-Secondly": str(limits.burst // 10),
                "X-HubSpot-RateLimit-Secondly-Remaining": str(max(0, limits.burst // 10 - 1)),
                "X-HubSpot-RateLimit-Daily": str(limits.daily),
                "X-HubSpot-RateLimit-Daily-Remaining": str(limits.daily - total - 1),
            }


GATEWAY_PAGE = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n"
                b"</body>\r\n</html>\r\n")
RAW_PAGES: dict[str, tuple[int, str, bytes]] = {
    "html502": (502, "text/html", GATEWAY_PAGE),
    "text503": (503, "text/plain", b"Service Unavailable\nThe origin is down for maintenance."),
    "empty500": (500, "text/plain", b""),
    "text400": (400, "text/plain", b"Bad Request: malformed JSON\nat line 1"),
    "html404": (404, "text/html", b"<html><body><h1>404 Not Found</h1></body></html>"),
}
"""Error answers whose body is not JSON: status, content type, body."""


def required_scope(method: str, path: str) -> str | None:
    """The scope a request needs, as HubSpot names them (``crm.objects.deals.write``...)."""
    parts = path.strip("/").split("/")
    if parts[:3] == ["crm", "v3", "properties"] and len(parts) > 3:
        return f"crm.schemas.{parts[3]}.{'write' if method != 'GET' else 'read'}"
    if parts[:3] in (["crm", "v3", "objects"], ["crm", "v4", "objects"]) and len(parts) > 3:
        reads = method == "GET" or parts[-1] in ("search", "read")
        return f"crm.objects.{parts[3]}.{'read' if reads else 'write'}"
    return None


def error_body(category: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"status": "error", "message": message, "correlationId": str(uuid.uuid4()),
            "category": category, **extra}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in two writes: do not wait 40 ms between them
    state: ServerState

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests count requests instead of reading logs."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        state = self.state
        url = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if state.latency_s:
            time.sleep(state.latency_s)
        if url.path == "/oauth/v1/token":
            self._refresh(parse_qs(raw.decode()))
            return
        if self.headers.get("Authorization", "").removeprefix("Bearer ") not in state.tokens:
            self._send(401, error_body("EXPIRED_AUTHENTICATION",
                                       "The OAuth token used to make this call expired 0 second(s) ago."))
            return
        scope = required_scope(method, url.path)
        if state.scopes is not None and scope is not None and scope not in state.scopes:
            self._send(403, error_body(
                "MISSING_SCOPES", "This app hasn't been granted all required scopes to make this call. Read more "
                "about required scopes here: https://developers.hubspot.com/scopes.",
                errors=[{"message": "One or more of the following scopes are required.",
                         "context": {"requiredGranularScopes": [scope]}}]))
            return
        fault = state.take_fault(method, url.path)
        if fault and fault.kind == "drop_before":
            self.close_connection = True
            return
        if fault and fault.kind not in ("drop_after",):
            self._fault_reply(fault)
            return
        policy, headers = state.admit(url.path.endswith("/search"))
        if policy:
            with state.lock:
                state.throttled += 1
            self._throttle(policy)
            return
        reply = self._dispatch(method, url.path, parse_qs(url.query), raw)
        with state.lock:
            state.counts[f"{method} {re.sub('/[0-9]+', '/{id}', url.path)}"] += 1
        if fault and fault.kind == "drop_after":
            self.close_connection = True
            return
        self._send(reply.status, reply.body, headers)

    def _dispatch(self, method: str, path: str, query: dict[str, list[str]], raw: bytes) -> Reply:
        for route_method, pattern, handler in ROUTES:
            match = re.fullmatch(pattern, path)
            if route_method == method and match:
                try:
                    body = json.loads(raw) if raw else {}
                    return handler(self.state.portal, query, body, *match.groups())
                except PortalError as exc:
                    return Reply(exc.status, error_body(exc.category, exc.message, **exc.extra))
        return Reply(404, error_body("OBJECT_NOT_FOUND", f"no route for {method} {path}"))

    def _refresh(self, form: dict[str, list[str]]) -> None:
        if form.get("refresh_token", [""])[0] != self.state.refresh_token:
            self._send(400, {"status": "BAD_REFRESH_TOKEN", "message": "missing or unknown refresh token"})
            return
        token = f"token-{uuid.uuid4().hex[:8]}"
        self.state.tokens.add(token)
        self._send(200, {"token_type": "bearer", "refresh_token": self.state.refresh_token,
                         "access_token": token, "expires_in": 1800})

    def _fault_reply(self, fault: Fault) -> None:
        if fault.kind == "429":
            self._throttle("TEN_SECONDLY_ROLLING")
        elif fault.kind == "daily":
            self._throttle("DAILY")
        elif fault.kind in RAW_PAGES:
            self._send_raw(*RAW_PAGES[fault.kind])
        elif fault.kind == "401":
            self._send(401, error_body("EXPIRED_AUTHENTICATION",
                                       "The OAuth token used to make this call expired 0 second(s) ago."))
        else:
            self._send(int(fault.kind), error_body("INTERNAL_ERROR", "internal error, please retry"))

    def _throttle(self, policy: str) -> None:
        body = error_body("RATE_LIMITS", f"You have reached your {policy.lower()} limit.",
                          errorType="RATE_LIMIT", policyName=policy, groupName="api-calls:test")
        self._send(429, body)

    def _send_raw(self, status: int, content_type: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class HubSpotServer:
    """The server on a free local port, serving one :class:`Portal` until ``stop()``."""

    def __init__(self, portal: Portal | None = None, limits: Limits | None = None,
                 clock: Callable[[], float] = time.monotonic, latency_s: float = 0.0) -> None:
        self.state = ServerState(portal or Portal(), limits or Limits(), clock, latency_s)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def portal(self) -> Portal:
        return self.state.portal

    def requests(self, route: str | None = None) -> int:
        """Requests served, throttled ones excluded; ``route`` like ``"POST /crm/v3/objects/tasks/search"``."""
        counts = self.state.counts
        return sum(counts.values()) if route is None else counts[route]

    def start(self) -> HubSpotServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> HubSpotServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
