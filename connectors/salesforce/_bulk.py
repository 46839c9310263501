"""Bulk API 2.0 queries for first syncs of large objects: a handful of calls for a whole table.

A query job is created and polled until ``JobComplete``. Its CSV results are streamed straight off
the wire into rows (never a whole page in memory): from API 58.0 up, ``resultPages`` hands out five
result URLs at a time and the five pages download side by side, their rows interleaved through one
bounded queue (a first sync does not depend on their order); before 58.0 pages follow each other
along ``Sforce-Locator``. CSV carries every value as text, so standard fields are brought back to
their JSON types (see ``salesforce_mapping.from_csv``); custom fields in ``extra`` stay text here.
"""

from __future__ import annotations

import csv
import io
import queue
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
import urllib3
from simple_salesforce.api import Salesforce

from connectors.salesforce._client import TIMEOUT, SalesforceClient
from connectors.salesforce._errors import error_code, translate
from domain.errors import FatalConnectorError, RetriableConnectorError

RESULT_PAGE = 50_000
FAILED_STATES = ("Failed", "Aborted")
PARALLEL_SINCE = (58, 0)
"""The API version that brought ``resultPages``."""
_QUEUED_ROWS = 20_000
_END = object()


class BulkQuery:
    def __init__(self, client: SalesforceClient, *, poll_seconds: float = 2.0, max_polls: int = 1800,
                 api_version: str = "59.0") -> None:
        self._client = client
        self._poll_seconds = poll_seconds
        self._max_polls = max_polls
        self._parallel = tuple(int(p) for p in api_version.split(".")[:2]) >= PARALLEL_SINCE

    def rows(self, soql: str, *, include_deleted: bool) -> Iterator[dict[str, str]]:
        """Run ``soql`` as a Bulk API 2.0 query job and stream its rows (CSV text values), in no set order."""
        job = {"operation": "queryAll" if include_deleted else "query", "query": soql}
        created: dict[str, Any] = self._client.call(
            "read", "POST jobs/query", lambda sf: sf.restful("jobs/query", method="POST", json=job) or {}
        )
        job_id = str(created["id"])
        self._wait_for(job_id)
        yield from (self._parallel_rows(job_id) if self._parallel else self._sequential_rows(job_id))

    def _sequential_rows(self, job_id: str) -> Iterator[dict[str, str]]:
        locator = ""
        while True:
            response = self._client.call("read", "GET bulk results",
                                         lambda sf, at=locator: _open(sf, _results_url(sf, job_id, at)))  # type: ignore[misc]
            yield from _csv_rows(response)
            locator = response.headers.get("Sforce-Locator", "null")
            if locator in ("", "null"):
                return

    def _parallel_rows(self, job_id: str) -> Iterator[dict[str, str]]:
        following: str | None = f"jobs/query/{job_id}/resultPages"
        while following is not None:
            at = _relative(following)
            listing: dict[str, Any] = self._client.call(
                "read", "GET bulk result pages", lambda sf, at=at: sf.restful(at) or {})  # type: ignore[misc]
            urls = [page["resultUrl"] for page in listing.get("resultPages", [])]
            yield from self._side_by_side(urls)
            following = None if listing.get("done", True) else listing.get("nextRecordsUrl")

    def _side_by_side(self, urls: list[str]) -> Iterator[dict[str, str]]:
        """The rows of ``urls``, each page downloading in a thread of its own into one bounded queue."""
        if not urls:
            return
        rows: queue.Queue[object] = queue.Queue(maxsize=_QUEUED_ROWS)
        stop = threading.Event()

        def download(url: str) -> None:
            try:
                response = self._client.call("read", "GET bulk results",
                                             lambda sf: _open(sf, f"{sf.base_url.split('/services/')[0]}{url}"))
                for row in _csv_rows(response):
                    while not stop.is_set():
                        try:
                            rows.put(row, timeout=0.2)
                            break
                        except queue.Full:
                            continue
                    if stop.is_set():
                        response.close()
                        return
            except BaseException as exc:  # handed to the reader, who raises it
                rows.put(exc)
                return
            rows.put(_END)

        with ThreadPoolExecutor(max_workers=len(urls), thread_name_prefix="bulk-page") as pool:
            for url in urls:
                pool.submit(download, url)
            try:
                finished = 0
                while finished < len(urls):
                    item = rows.get()
                    if item is _END:
                        finished += 1
                    elif isinstance(item, BaseException):
                        raise item
                    else:
                        yield item  # type: ignore[misc]
            finally:
                stop.set()

    def _wait_for(self, job_id: str) -> None:
        for _ in range(self._max_polls):
            status: dict[str, Any] = self._client.call(
                "read", "GET jobs/query", lambda sf: sf.restful(f"jobs/query/{job_id}") or {}
            )
            state = status.get("state")
            if state == "JobComplete":
                return
            if state in FAILED_STATES:
                raise FatalConnectorError(
                    f"Salesforce Bulk API query job {job_id} ended {state}: {status.get('errorMessage')}; "
                    "check the query's fields, or set SALESFORCE_BULK_THRESHOLD=0 to read through the REST API"
                )
            self._client.sleep(self._poll_seconds)
        raise FatalConnectorError(
            f"Salesforce Bulk API query job {job_id} did not finish after {self._max_polls} polls; "
            "try again later or set SALESFORCE_BULK_THRESHOLD=0 to read through the REST API"
        )


def _relative(url: str) -> str:
    """``/services/data/v59.0/jobs/...`` as simple-salesforce's ``restful`` takes it (``jobs/...``)."""
    return url.split("/services/data/", 1)[1].split("/", 1)[1] if url.startswith("/services/data/") else url


def _results_url(sf: Salesforce, job_id: str, locator: str) -> str:
    url = f"{sf.base_url}jobs/query/{job_id}/results?maxRecords={RESULT_PAGE}"
    return f"{url}&locator={locator}" if locator else url


def _open(sf: Salesforce, url: str) -> requests.Response:
    """Start reading one page of results; the body stays on the wire until ``_csv_rows`` reads it."""
    response = sf.session.get(url, headers=sf.headers, timeout=TIMEOUT, stream=True)
    if response.status_code >= 300:
        try:
            content: Any = response.json()
        except ValueError:
            content = response.text
        code, message = error_code(content)
        raise translate(response.status_code, code, message, "GET bulk results")
    return response


def _csv_rows(response: requests.Response) -> Iterator[dict[str, str]]:
    """Rows of a CSV page as they arrive, decoded from the stream (a value may span lines inside quotes)."""
    response.raw.decode_content = True
    response.raw.auto_close = False  # let the text wrapper see the end of the body rather than a closed file
    text = io.TextIOWrapper(response.raw, encoding="utf-8", newline="")
    try:
        reader = csv.reader(text)
        header = next(reader, None)
        if header is None:
            return
        for values in reader:
            yield dict(zip(header, values, strict=True))
    except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
        raise RetriableConnectorError(f"GET bulk results: the connection dropped mid-page ({type(exc).__name__})") \
            from None
    finally:
        response.close()
