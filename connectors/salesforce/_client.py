"""Every call to Salesforce goes through here: budget check, counting, re-login, retries, translation.

simple-salesforce sends the REST calls; this wrapper adds what it lacks: tenacity retries for passing
faults (never for a call the caller marks as unsafe to repeat), one re-login on ``INVALID_SESSION_ID``
when the token source can log in, the ``Sforce-Limit-Info`` reading, and a stop before the run
takes more than its share of the org's daily API allocation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode
from xml.etree import ElementTree

import requests
import structlog
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceError

from connectors._retry import Sleep, retrying
from connectors.salesforce._auth import TokenSource
from connectors.salesforce._errors import RequestLimitExceeded, SessionExpired, error_code, translate
from connectors.salesforce._soap import envelope, parse_soap_response
from domain.connector import ApiUsage
from domain.errors import BudgetExhausted, RetriableConnectorError

log = structlog.get_logger(__name__)
T = TypeVar("T")
TIMEOUT = 120
COMPOSITE_QUERIES = 5

class SalesforceClient:
    def __init__(
        self,
        tokens: TokenSource,
        *,
        http: requests.Session,
        api_version: str,
        usage: ApiUsage,
        api_share: float,
        sleep: Sleep,
        max_attempts: int = 5,
        page_size: int | None = None,
    ) -> None:
        self._tokens = tokens
        self._http = http
        self._api_version = api_version
        self.api_version = api_version
        self._api_share = api_share
        self.sleep = sleep
        self._max_attempts = max_attempts
        self._query_headers = {"Sforce-Query-Options": f"batchSize={page_size}"} if page_size else {}
        self._sf: Salesforce | None = None
        self.usage = usage

    def call(self, kind: str, what: str, send: Callable[[Salesforce], T], *, retry: bool = True,
             budgeted: bool = True) -> T:
        """Make one API call (``kind`` is read/write/merge/other), retrying passing faults when ``retry``.

        Raises:
            BudgetExhausted: the org is at the configured share of its daily allocation, or stays
                rate-limited through every retry (without ``retry`` the rate-limit error itself is raised).
        """
        tries = retrying("salesforce", attempts=self._max_attempts if retry else 1, sleep=self.sleep)
        try:
            result: T = tries(self._attempt, kind, what, send, budgeted)
        except RequestLimitExceeded as exc:
            if not retry:
                raise
            log.warning("salesforce.rate_limited", call=what, attempts=self._max_attempts)
            raise BudgetExhausted(f"{exc}; the run stops here and resumes from the ledger next time") from None
        return result

    def query(self, soql: str, *, include_deleted: bool = False) -> dict[str, Any]:
        """The first page of a SOQL result (one read call), with ``totalSize``, ``done`` and ``records``."""
        headers = self._query_headers

        def first(sf: Salesforce) -> Any:
            return sf.query(soql, include_deleted=include_deleted, headers=headers, timeout=TIMEOUT)

        page: dict[str, Any] = self.call("read", "query", first)
        return page

    def first_pages(self, queries: Sequence[tuple[str, bool]]) -> dict[tuple[str, bool], dict[str, Any]]:
        """The first page of each (SOQL, include_deleted) query, five to a ``composite`` call (one API call each).

        Composite takes 25 subrequests of which at most 5 queries; each answer is what ``query`` returns.
        """
        pages: dict[tuple[str, bool], dict[str, Any]] = {}
        for start in range(0, len(queries), COMPOSITE_QUERIES):
            batch = list(queries[start : start + COMPOSITE_QUERIES])
            body = {"compositeRequest": [self._subrequest(soql, deleted, n) for n, (soql, deleted) in enumerate(batch)]}
            answer = self.call("read", "composite query", lambda sf, body=body: sf.restful(  # type: ignore[misc]
                "composite", method="POST", json=body, timeout=TIMEOUT))
            for sub in answer["compositeResponse"]:
                query = batch[int(sub["referenceId"].removeprefix("q"))]
                if sub["httpStatusCode"] >= 300:
                    code, message = error_code(sub["body"])
                    raise translate(sub["httpStatusCode"], code, message, f"query in composite: {query[0][:80]}")
                pages[query] = sub["body"]
        return pages

    def _subrequest(self, soql: str, include_deleted: bool, n: int) -> dict[str, Any]:
        resource = "queryAll" if include_deleted else "query"
        sub: dict[str, Any] = {"method": "GET", "referenceId": f"q{n}",
                               "url": f"/services/data/v{self._api_version}/{resource}?{urlencode({'q': soql})}"}
        if self._query_headers:
            sub["httpHeaders"] = dict(self._query_headers)
        return sub

    def pages_from(self, page: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        """Stream a result from its first page along ``nextRecordsUrl``; each further page is one read call."""
        headers = self._query_headers
        while True:
            yield page["records"]
            if page["done"]:
                return
            cursor: str = page["nextRecordsUrl"]

            def more(sf: Salesforce, cursor: str = cursor) -> Any:
                return sf.query_more(cursor, identifier_is_url=True, headers=headers, timeout=TIMEOUT)

            page = self.call("read", "query more", more)

    def query_pages(self, soql: str, *, include_deleted: bool = False) -> Iterator[list[dict[str, Any]]]:
        """Stream a SOQL result page by page; the first page is fetched when iteration starts."""
        yield from self.pages_from(self.query(soql, include_deleted=include_deleted))

    def query_rows(self, soql: str, *, include_deleted: bool = False) -> Iterator[dict[str, Any]]:
        for page in self.query_pages(soql, include_deleted=include_deleted):
            yield from page

    def collections(self, method: str, records: list[dict[str, Any]], *, retry: bool) -> list[dict[str, Any]]:
        """One sObject Collections call (``POST`` creates, ``PATCH`` updates) with ``allOrNone=false``."""
        body = {"allOrNone": False, "records": records}
        answer = self.call(
            "write",
            f"{method} composite/sobjects",
            lambda sf: sf.restful("composite/sobjects", method=method, json=body, timeout=TIMEOUT),
            retry=retry,
        )
        return list(answer or [])

    def delete_collection(self, record_ids: list[str]) -> list[dict[str, Any]]:
        """One sObject Collections ``DELETE`` of at most 200 ids with ``allOrNone=false``: an answer per id."""
        params = {"ids": ",".join(record_ids), "allOrNone": "false"}
        answer = self.call(
            "write",
            "DELETE composite/sobjects",
            lambda sf: sf.restful("composite/sobjects", method="DELETE", params=params, timeout=TIMEOUT),
            retry=True,
        )
        return list(answer or [])

    def soap(self, kind: str, action: str, body: str, *, retry: bool) -> ElementTree.Element:
        """One SOAP API call (``merge``, ``undelete``); returns the ``<soapenv:Body>`` element."""

        def send(sf: Salesforce) -> ElementTree.Element:
            url = f"https://{sf.sf_instance}/services/Soap/u/{sf.sf_version}"
            headers = {"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": action}
            response = sf.session.post(url, data=envelope(sf.session_id, body), headers=headers, timeout=TIMEOUT)
            return parse_soap_response(response.status_code, response.content, f"SOAP {action}")

        return self.call(kind, f"SOAP {action}", send, retry=retry)

    def refresh_limits(self) -> None:
        """Read ``/limits`` into ``usage`` (one call)."""
        limits = self.call("other", "GET limits", lambda sf: sf.limits(timeout=TIMEOUT), retry=True)
        daily = limits["DailyApiRequests"]
        self.usage.daily_limit, self.usage.daily_remaining = int(daily["Max"]), int(daily["Remaining"])

    def _attempt(self, kind: str, what: str, send: Callable[[Salesforce], T], budgeted: bool = True) -> T:
        if budgeted:
            self._check_budget(what)
        try:
            return self._send(kind, what, send)
        except SessionExpired:
            if not self._tokens.can_refresh:
                raise
            log.info("salesforce.session_expired", call=what, action="logging in again")
            self._sf = self._login()
            return self._send(kind, what, send)

    def _send(self, kind: str, what: str, send: Callable[[Salesforce], T]) -> T:
        sf = self._session()
        self.usage.count(kind)
        try:
            return send(sf)
        except SalesforceError as exc:
            code, message = error_code(exc.content)
            raise translate(exc.status, code, message, what) from None
        except requests.RequestException as exc:
            raise RetriableConnectorError(f"{what}: connection to Salesforce failed ({type(exc).__name__})") from None
        finally:
            self._note_usage(sf)

    def _check_budget(self, what: str) -> None:
        if self.usage.daily_limit is None and what != "GET limits":
            self.refresh_limits()
        limit, remaining = self.usage.daily_limit, self.usage.daily_remaining
        if limit is None or remaining is None:
            return
        allowed = int(limit * self._api_share)
        if limit - remaining >= allowed:
            log.warning("salesforce.budget_stop", used=limit - remaining, limit=limit, allowed=allowed, call=what)
            raise BudgetExhausted(
                f"the Salesforce org has used {limit - remaining} of its {limit} daily API calls and "
                f"SALESFORCE_API_SHARE={self._api_share} allows {allowed}: stopping before {what}; "
                "the run resumes when the rolling 24-hour window frees calls"
            )

    def _note_usage(self, sf: Salesforce) -> None:
        reading = sf.api_usage.get("api-usage")
        if reading is not None:
            self.usage.daily_limit, self.usage.daily_remaining = reading.total, reading.total - reading.used

    def _session(self) -> Salesforce:
        if self._sf is None:
            self._sf = self._login()
        return self._sf

    def _login(self) -> Salesforce:
        if self._tokens.can_refresh:
            self.usage.count("other")
        token = self._tokens.token()
        return Salesforce(
            session_id=token.access_token,
            instance_url=token.instance_url,
            version=self._api_version,
            session=self._http,
        )
