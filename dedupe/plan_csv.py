"""Merge plans as CSV, one row per record: the file an admin reviews in a spreadsheet and applies.

The admin edits the ``approve`` column: ``yes`` on any row approves the cluster, ``no`` on a loser's
row leaves that record out, empty follows the cluster. Auto-tier rows start as ``yes`` only when the
policy allows unattended merges. Reading checks every row as a schema (see ``dedupe.plan_cells``).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dedupe import plan_cells as cells
from dedupe.plan import ClusterPlan, MergePlan
from dedupe.plan_cells import BadValue, cell_text, safe_cell

CSV_COLUMNS = ("cluster_id", "record_id", "name", "master", "score", "tier", "joined", "reason", "set_fields",
               "approve", "object")
REQUIRED = ("cluster_id", "record_id", "name", "master", "score", "tier", "set_fields", "approve")
YES = frozenset({"yes", "y", "true", "1", "x"})
NO = frozenset({"no", "n", "false", "0"})


class PlanFileError(ValueError):
    """A plan file that cannot be read back; the message names the file, row and column (or cluster)."""


def _rows(cluster: ClusterPlan) -> Iterable[dict[str, str]]:
    for record_id, name in cluster.names.items():
        master = record_id == cluster.master_id
        yield {
            "cluster_id": cluster.cluster_id, "record_id": record_id, "name": name,
            "master": "yes" if master else "", "score": f"{cluster.score:.0f}", "tier": cluster.tier.value,
            "joined": cluster.joined.get(record_id, ""), "reason": cluster.reason,
            "set_fields": json.dumps(cluster.fields, sort_keys=True) if master else "",
            "approve": "yes" if cluster.approved else "", "object": cluster.object.value,
        }


def write_csv(plan: MergePlan, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for cluster in plan.clusters:
            writer.writerows({k: safe_cell(v) for k, v in row.items()} for row in _rows(cluster))


@dataclass(frozen=True, slots=True)
class _Row:
    number: int
    """The row's number in a spreadsheet (the header is row 1)."""
    cells: dict[str, str]
    values: dict[str, Any]


_CHECKS: dict[str, Callable[[str], object]] = {
    "cluster_id": cells.text, "record_id": cells.text, "tier": cells.tier, "score": cells.score,
    "set_fields": cells.json_object, "object": cells.merged_type,
}


def _decision(value: str) -> bool | None:
    answer = value.strip().lower()
    if answer in YES:
        return True
    if answer in NO:
        return False
    if answer:
        raise BadValue(f"{value!r} is not yes, no or empty")
    return None


def _checked(path: Path, number: int, raw: dict[str | Any, Any], seen: dict[str, int]) -> _Row:
    row = {str(k): cell_text(v or "") for k, v in raw.items() if isinstance(k, str)}
    values: dict[str, Any] = {}
    for column, check in (*_CHECKS.items(), ("approve", _decision)):
        try:
            values[column] = check(row.get(column, ""))
        except BadValue as exc:
            raise PlanFileError(f"{path}, row {number}, column {column}: {exc}") from None
    record_id = values["record_id"]
    if record_id in seen:
        raise PlanFileError(
            f"{path}, row {number}, column record_id: {record_id!r} is already on row {seen[record_id]}"
        )
    seen[record_id] = number
    return _Row(number, row, values)


def _cluster(path: Path, cluster_id: str, rows: list[_Row]) -> ClusterPlan:
    masters = [r for r in rows if r.cells.get("master", "").strip().lower() in YES]
    if len(masters) != 1:
        raise PlanFileError(f"{path}: cluster {cluster_id} has {len(masters)} rows marked master; mark exactly one")
    master = masters[0]
    if master.values["approve"] is False:
        raise PlanFileError(f"{path}, row {master.number}: cluster {cluster_id}: the master "
                            f"{master.values['record_id']} says approve=no; move the master flag to another row, "
                            "or clear approve on the whole cluster")
    losers = tuple(r.values["record_id"] for r in rows if r is not master and r.values["approve"] is not False)
    return ClusterPlan(
        cluster_id=cluster_id, tier=rows[0].values["tier"], score=rows[0].values["score"],
        master_id=master.values["record_id"], loser_ids=losers,
        names={r.values["record_id"]: r.cells.get("name", "") for r in sorted(rows, key=lambda r: r is not master)},
        fields=master.values["set_fields"], reason=master.cells.get("reason", ""),
        approved=any(r.values["approve"] is True for r in rows),
        joined={r.values["record_id"]: r.cells["joined"] for r in rows if r.cells.get("joined")},
        object=master.values["object"],
    )


def read_csv(path: Path) -> list[ClusterPlan]:
    """The clusters of a plan CSV, with the admin's approvals; any schema problem raises ``PlanFileError``."""
    try:
        return _read_csv(path)
    except UnicodeDecodeError as exc:
        raise PlanFileError(
            f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save the plan as UTF-8 CSV"
        ) from None
    except csv.Error as exc:
        raise PlanFileError(f"{path}: not a CSV plan ({exc})") from None


def _read_csv(path: Path) -> list[ClusterPlan]:
    with path.open(newline="", encoding="utf-8-sig") as source:
        reader = csv.DictReader(source)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or ())]
        if missing:
            raise PlanFileError(f"{path}: missing column(s) {', '.join(missing)}; write plans with warden dedupe plan")
        grouped: dict[str, list[_Row]] = {}
        seen: dict[str, int] = {}
        for number, raw in enumerate(reader, start=2):
            row = _checked(path, number, raw, seen)
            grouped.setdefault(row.values["cluster_id"], []).append(row)
    return [_cluster(path, cluster_id, rows) for cluster_id, rows in grouped.items()]
