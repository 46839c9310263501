"""The embedded CRM's record view: one HTML page that shows any of its records, and links into it.

A real CRM has a web page per record; the embedded one writes a single self-contained page (the
records as JSON, a few lines of script) and addresses a record by the page's fragment,
``records.html#opportunity/opp-000003``, so digest links open the record the way they would in
Salesforce or HubSpot.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import quote

from domain.connector import Reader
from domain.records import ObjectType

SHOWN = (ObjectType.ACCOUNT, ObjectType.CONTACT, ObjectType.LEAD, ObjectType.OPPORTUNITY, ObjectType.TASK)
_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo CRM record</title>
<style>body{font-family:Arial,Helvetica,sans-serif;margin:0;background:#f4f5f7;color:#1f2933}
main{max-width:680px;margin:16px auto;background:#fff;border:1px solid #dde1e6;padding:16px;overflow-wrap:anywhere}
h1{font-size:20px;margin:4px 0 12px}p.kind{margin:0;color:#6b7280;text-transform:uppercase;font-size:12px}
table{border-collapse:collapse;width:100%;font-size:14px}th{text-align:left;color:#6b7280;font-weight:normal;
padding:4px 8px 4px 0;vertical-align:top;width:35%}td{padding:4px 0;border-bottom:1px solid #eee}</style></head>
<body><main id="record"><p>Loading...</p></main>
<script id="data" type="application/json">__DATA__</script>
<script>
const data = JSON.parse(document.getElementById("data").textContent);
function show() {
  const [kind, id] = decodeURIComponent(location.hash.slice(1)).split("/");
  const record = (data.records[kind] || {})[id];
  const main = document.getElementById("record");
  main.textContent = "";
  const label = document.createElement("p"); label.className = "kind"; label.textContent = kind || "record";
  const title = document.createElement("h1");
  main.append(label, title);
  if (!record) { title.textContent = "No such record in the demo CRM: " + (id || "(none)"); return; }
  title.textContent = record.name || record.subject || id;
  const table = document.createElement("table");
  for (const [field, value] of Object.entries(record)) {
    if (value === null || value === "" || (typeof value === "object" && !Object.keys(value).length)) continue;
    const row = table.insertRow(), th = document.createElement("th"), td = row.insertCell();
    th.textContent = field.replaceAll("_", " "); row.prepend(th);
    const shown = typeof value === "object" ? JSON.stringify(value) : value;
    td.textContent = field === "owner_id" ? (data.owners[value] || value) : shown;
  }
  main.append(table);
}
addEventListener("hashchange", show); show();
</script></body></html>
"""


@dataclass(frozen=True)
class LocalLinks:
    """Links into the embedded CRM's record view: ``<view_url>#<object>/<id>``."""

    view_url: str
    """Where the record view is served or written (``file:///.../records.html``)."""

    def url(self, object_type: ObjectType, record_id: str) -> str | None:
        if object_type not in SHOWN:
            return None
        return f"{self.view_url}#{object_type.value}/{quote(record_id, safe='')}"


def write_record_view(crm: Reader, path: Path) -> LocalLinks:
    """Write the record view of every record ``crm`` holds to ``path``; the links that open its records."""
    records = {obj.value: {r.id: _fields(r) for r in crm.iter_changed(obj, None) if not r.deleted} for obj in SHOWN}
    owners = {o.id: o.name for o in crm.owners()}
    data = json.dumps({"records": records, "owners": owners}, default=_plain).replace("</", "<\\/")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_PAGE.replace("__DATA__", data), encoding="utf-8")
    return LocalLinks(path.resolve().as_uri())


def _fields(record: Any) -> dict[str, Any]:
    return {f.name: getattr(record, f.name) for f in dataclasses.fields(record) if f.name != "deleted"}


def _plain(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return str(value.value)
    raise TypeError(f"cannot show {type(value).__name__} in the record view")
