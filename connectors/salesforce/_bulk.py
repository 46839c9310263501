"""Bulk API 2.0 queries for first syncs of large objects: a handful of calls for a whole table.

A query job is created, polled until ``JobComplete``, and its CSV results are read in pages of up
to ``RESULT_PAGE`` records along ``Sforce-Locator``. CSV carries every value as text, so standard
fields are brought back to their JSON types (see ``salesforce_mapping.from_csv``); custom fields in
``extra`` stay text on this path.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from simple_salesforce.api import Salesforce

from connectors.salesforce._client import TIMEOUT, SalesforceClient
from connectors.salesforce._errors import error_code, translate
from domain.errors import FatalConnectorError

RESULT_PAGE = 50_000
FAILED_STATES = ("Failed", "Aborted")


class BulkQuery:
    def __init__(self, client: SalesforceClient, *, poll_seconds: float = 2.0, max_polls: int = 1800) -> None:
        self._client = client
        self._poll_seconds = poll_seconds
        self._max_polls = max_polls

    def rows(self, soql: str, *, include_deleted: bool) -> Iterator[dict[str, str]]:
        """Run ``soql`` as a Bulk API 2.0 query job and stream its rows (CSV text values)."""
        job = {"operation": "queryAll" if include_deleted else "query", "query": soql}
        created: dict[str, Any] = self._client.call(
            "read", "POST jobs/query", lambda sf: sf.restful("jobs/query", method="POST", json=job) or {}
        )
        job_id = str(created["id"])
        self._wait_for(job_id)
        locator = ""
        while True:
            text, locator = self._client.call(
                "read", "GET bulk results", lambda sf, at=locator: _results(sf, job_id, at)  # type: ignore[misc]
            )
            yield from csv.DictReader(io.StringIO(text))
            if locator in ("", "null"):
                return

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


def _results(sf: Salesforce, job_id: str, locator: str) -> tuple[str, str]:
    params: dict[str, Any] = {"maxRecords": RESULT_PAGE}
    if locator:
        params["locator"] = locator
    response = sf.session.get(f"{sf.base_url}jobs/query/{job_id}/results", headers=sf.headers, params=params,
                              timeout=TIMEOUT)
    if response.status_code >= 300:
        try:
            content: Any = response.json()
        except ValueError:
            content = response.text
        code, message = error_code(content)
        raise translate(response.status_code, code, message, "GET bulk results")
    return response.text, response.headers.get("Sforce-Locator", "null")
