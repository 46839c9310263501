"""The fake server's Bulk API 2.0 query endpoints: create a job, poll it, read CSV results by locator.

A job runs its query when created and reports ``InProgress`` for ``polls_before_complete`` status
reads, then ``JobComplete``. Results are CSV with every value quoted (empty for null,
``true``/``false``), with ``Sforce-Locator`` naming the next page (``null`` on the last; an opaque
string, here the offset in base64 as Salesforce's ``MTAwMDA``) and ``Sforce-NumberOfRecords``.
``resultPages`` (API 58.0+) hands out up to five result URLs at once, for reading pages in parallel,
with ``nextRecordsUrl`` and ``done``.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any

from tests.servers.salesforce.org import Org, Refused

DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000")


@dataclass
class Raw:
    """An answer that is not JSON."""

    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class BulkJobs:
    page_size: int = 50_000
    """Records in a result page when the client does not ask for fewer (``maxRecords``)."""
    polls_before_complete: int = 1
    failure: str | None = None
    """When set, every job ends ``Failed`` with this message."""
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def create(self, org: Org, body: bytes) -> dict[str, Any]:
        request = json.loads(body)
        rows = org.query(request["query"], include_deleted=request.get("operation") == "queryAll")
        job_id = f"750{len(self.jobs) + 1:012d}AAA"
        self.jobs[job_id] = {"rows": rows, "polls": 0}
        return {"id": job_id, "operation": request.get("operation", "query"), "state": "UploadComplete",
                "concurrencyMode": "Parallel", "contentType": "CSV", "apiVersion": 59.0}

    def status(self, job_id: str) -> dict[str, Any]:
        job = self._job(job_id)
        job["polls"] += 1
        state = "JobComplete" if job["polls"] > self.polls_before_complete else "InProgress"
        if self.failure and state == "JobComplete":
            return {"id": job_id, "state": "Failed", "errorMessage": self.failure}
        return {"id": job_id, "state": state, "numberRecordsProcessed": len(job["rows"])}

    def results(self, job_id: str, max_records: int | None, locator: str) -> Raw:
        job = self._job(job_id)
        rows = [{k: v for k, v in r.items() if k != "attributes"} for r in job["rows"]]
        start = _offset(locator)
        size = max_records or self.page_size
        page = rows[start : start + size]
        out = io.StringIO()
        names = list(rows[0]) if rows else []
        writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n", quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows({k: _text(v) for k, v in row.items()} for row in page)
        following = _locator(start + size) if start + size < len(rows) else "null"
        headers = {"Content-Type": "text/csv", "Sforce-Locator": following, "Sforce-NumberOfRecords": str(len(page))}
        return Raw(out.getvalue().encode(), headers)

    def result_pages(self, job_id: str, version: str, locator: str) -> dict[str, Any]:
        """Up to five result URLs of a finished job, and where to ask for the next five."""
        rows = len(self._job(job_id)["rows"])
        starts = list(range(_offset(locator), rows, self.page_size))
        base = f"/services/data/v{version}/jobs/query/{job_id}"
        pages = [{"resultUrl": f"{base}/results" + (f"?locator={_locator(start)}" if start else "")}
                 for start in starts[:PARALLEL_PAGES]]
        answer: dict[str, Any] = {"resultPages": pages, "done": len(starts) <= PARALLEL_PAGES}
        if not answer["done"]:
            answer["nextRecordsUrl"] = f"{base}/resultPages?locator={_locator(starts[PARALLEL_PAGES])}"
        return answer

    def _job(self, job_id: str) -> dict[str, Any]:
        if job_id not in self.jobs:
            raise Refused(404, "NOT_FOUND", f"The requested resource does not exist: job {job_id}")
        return self.jobs[job_id]


PARALLEL_PAGES = 5


def _locator(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode().rstrip("=")


def _offset(locator: str) -> int:
    if not locator:
        return 0
    try:
        return int(base64.b64decode(locator + "=" * (-len(locator) % 4)).decode())
    except ValueError:
        raise Refused(400, "INVALIDLOCATOR", f"invalid locator: {locator}") from None


def _text(value: Any) -> str:
    """CSV text as Bulk API 2.0 writes it: empty for null, lower-case booleans, datetimes ending in Z."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and DATETIME.fullmatch(value):
        return value.removesuffix("+0000") + "Z"
    return str(value)
