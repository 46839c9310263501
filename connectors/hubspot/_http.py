"""Sending one HubSpot request through ``hubspot-api-client``: limits, retries, auth, error translation.

Every call of the connector goes through :meth:`HubSpotHttp.call`, which waits for the rate
limiter, sends through the SDK (raw responses, so status, headers and 207 bodies are all seen),
retries what is safe to retry with tenacity, refreshes an expired OAuth token once, and turns
HubSpot's statuses into :mod:`domain.errors` classes. Secrets never appear in messages.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import hubspot
import structlog
import urllib3
from hubspot.crm.associations.v4 import exceptions as associations_errors
from hubspot.crm.companies import exceptions as companies_errors
from hubspot.crm.contacts import exceptions as contacts_errors
from hubspot.crm.objects import exceptions as objects_errors
from hubspot.crm.owners import exceptions as owners_errors
from hubspot.crm.pipelines import exceptions as pipelines_errors
from hubspot.crm.properties import exceptions as properties_errors
from hubspot.discovery.discovery_base import DiscoveryBase
from hubspot.oauth import exceptions as oauth_errors

from connectors._retry import Sleep, TryAgain, retrying
from connectors.hubspot._errors import Act, message_of, resolve
from connectors.hubspot._ratelimit import RateLimiter
from domain.connector import ApiUsage
from domain.errors import BudgetExhausted, CredentialsError, FatalConnectorError, RecordError, RetriableConnectorError

log = structlog.get_logger(__name__)

API_ERRORS = (objects_errors.ApiException, companies_errors.ApiException, contacts_errors.ApiException,
              associations_errors.ApiException,
              owners_errors.ApiException, pipelines_errors.ApiException, properties_errors.ApiException,
              oauth_errors.ApiException)


@dataclass(frozen=True)
class Response:
    status: int
    body: Any


@dataclass(frozen=True)
class OAuthApp:
    """What refreshing an OAuth access token needs (``HUBSPOT_CLIENT_ID/SECRET/REFRESH_TOKEN``)."""

    client_id: str
    client_secret: str
    refresh_token: str


class _ReusedApis:
    """The SDK's ``api_factory``: one API object per API, so each keeps its connection pool.

    The SDK's default factory builds a new client (and a new pool) on every attribute access; this
    one builds each once and keeps its access token current after a refresh.
    """

    def __init__(self) -> None:
        self._apis: dict[tuple[str, str], Any] = {}

    def __call__(self, package: Any, api_name: str, config: dict[str, Any]) -> Any:
        key = (package.__name__, api_name)
        if key not in self._apis:
            self._apis[key] = DiscoveryBase._default_api_factory(package, api_name, config)
        api = self._apis[key]
        api.api_client.configuration.access_token = config.get("access_token")
        return api


class HubSpotHttp:
    """The one door to HubSpot: ``call(kind, subject, send)`` returns a parsed :class:`Response`."""

    def __init__(self, base_url: str, access_token: str | None, limiter: RateLimiter, usage: ApiUsage, *,
                 sleep: Sleep, oauth: OAuthApp | None = None, attempts: int = 6) -> None:
        if not access_token and oauth is None:
            raise CredentialsError(
                "no HubSpot credentials: set HUBSPOT_ACCESS_TOKEN (private app) or HUBSPOT_CLIENT_ID, "
                "HUBSPOT_CLIENT_SECRET and HUBSPOT_REFRESH_TOKEN (OAuth app)")
        no_retries = urllib3.util.Retry(total=0, raise_on_status=False)  # tenacity decides what to retry
        self.client = hubspot.Client.create(access_token=access_token or "", host=base_url.rstrip("/"),
                                            retry=no_retries, api_factory=_ReusedApis())
        self.limiter, self.usage, self._sleep, self._oauth, self._attempts = limiter, usage, sleep, oauth, attempts
        self._backoff = 0.5

    def call(self, kind: str, subject: str, send: Callable[[hubspot.Client], Any], *,
             search: bool = False, repeatable: bool = True) -> Response:
        """Send one request; ``kind`` counts it in usage, ``subject`` names it in errors.

        ``repeatable`` says whether repeating the request after a lost answer is harmless; when it is
        not, a dropped connection or 5xx raises :class:`RetriableConnectorError` for the caller to
        check what took effect. Rate limits and an expired token are retried either way: HubSpot
        refused those requests without acting on them.
        """
        refreshed: list[bool] = []
        tries = retrying("hubspot", attempts=self._attempts, sleep=self._sleep, on=TryAgain)
        try:
            return tries(self._attempt, kind, subject, send, search, repeatable, refreshed)
        except TryAgain as exc:
            raise RetriableConnectorError(f"HubSpot {subject}: {exc} (gave up after {self._attempts} tries)") from None

    def _attempt(self, kind: str, subject: str, send: Callable[[hubspot.Client], Any], search: bool,
                 repeatable: bool, refreshed: list[bool]) -> Response:
        self.limiter.acquire(search=search)
        self.usage.count(kind)
        try:
            raw = send(self.client)
            data, headers = raw.data, dict(raw.headers)
            raw.release_conn()
        except API_ERRORS as exc:
            self._observe(dict(exc.headers or {}))
            return self._refused(exc.status, exc.body, subject, repeatable, refreshed)
        except urllib3.exceptions.HTTPError as exc:
            if not repeatable:
                raise RetriableConnectorError(f"HubSpot {subject}: connection lost ({type(exc).__name__}); "
                                              "the request may or may not have taken effect") from None
            raise TryAgain(f"connection lost ({type(exc).__name__})", self._backoff) from None
        finally:
            self.limiter.answered()
        self._observe(headers)
        return Response(raw.status, json.loads(data) if data else None)

    def _observe(self, headers: dict[str, str]) -> None:
        self.limiter.observe(headers)
        if "X-HubSpot-RateLimit-Daily-Remaining" in headers:
            self.usage.daily_limit = int(headers.get("X-HubSpot-RateLimit-Daily", 0)) or None
            self.usage.daily_remaining = int(headers["X-HubSpot-RateLimit-Daily-Remaining"])

    def _refused(self, status: int, body: bytes | None, subject: str, repeatable: bool,
                 refreshed: list[bool]) -> Response:
        message, parsed = message_of(body)
        resolution = resolve(status)
        if resolution.act is Act.THROTTLE:
            self._throttled(str(parsed.get("policyName", "TEN_SECONDLY_ROLLING")), subject)
        if resolution.act is Act.REAUTHENTICATE and self._oauth is not None and not refreshed:
            refreshed.append(True)
            self._refresh_token()
            raise TryAgain("access token expired; refreshed", 0.0)
        if resolution.act is Act.RETRY:
            if not repeatable:
                raise RetriableConnectorError(f"HubSpot {subject}: HTTP {status} ({message})")
            raise TryAgain(f"HTTP {status} ({message})", self._backoff)
        if resolution.act is Act.RECORD:
            raise RecordError(subject, f"{parsed.get('category', 'HTTP ' + str(status))}: {message}")
        if resolution.act is Act.REAUTHENTICATE:
            raise CredentialsError(f"HubSpot refused {subject} with HTTP {status} ({message}): {resolution.fix}")
        if resolution.fix:
            fix = resolution.fix
            scopes = [s for e in parsed.get("errors", []) if isinstance(e, dict)
                      for s in e.get("context", {}).get("requiredGranularScopes", [])]
            if scopes:
                fix = f"grant the app the scope {' or '.join(scopes)}"
            raise FatalConnectorError(f"HubSpot refused {subject} with HTTP {status} ({message}): {fix}")
        raise FatalConnectorError(f"HubSpot answered HTTP {status} to {subject}: {message}")

    def _throttled(self, policy: str, subject: str) -> None:
        if policy == "DAILY":
            raise BudgetExhausted(f"HubSpot daily API limit reached during {subject}; the run stops "
                                  "here and resumes from its watermark tomorrow") from None
        log.warning("hubspot.throttled", policy=policy, subject=subject)
        self.limiter.throttled(policy)
        raise TryAgain(f"rate limited ({policy})", 0.0)

    def _refresh_token(self) -> None:
        assert self._oauth is not None
        app = self._oauth
        try:
            raw = self.client.oauth.tokens_api.create(
                grant_type="refresh_token", client_id=app.client_id, client_secret=app.client_secret,
                refresh_token=app.refresh_token, _preload_content=False)
        except API_ERRORS as exc:
            raise CredentialsError(f"HubSpot refused the OAuth refresh (HTTP {exc.status}): check "
                                      "HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET and HUBSPOT_REFRESH_TOKEN") from None
        self.usage.count("other")
        self.client.access_token = json.loads(raw.data)["access_token"]
        log.info("hubspot.token_refreshed")
