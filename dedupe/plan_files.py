"""Merge plans as files: CSV for review in a spreadsheet, JSON for scripts, a static HTML report.

The CSV has one row per record. The admin edits its ``approve`` column: ``yes`` on any row approves
the cluster, ``no`` on a loser's row leaves that record out, empty follows the cluster. Auto-tier
rows start as ``yes`` only when the policy allows unattended merges.
"""

from __future__ import annotations

import csv
import html
import json
from collections.abc import Iterable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from dedupe.plan import ClusterPlan, MergePlan
from dedupe.score import Tier
from domain.records import ObjectType

CSV_COLUMNS = ("cluster_id", "record_id", "name", "master", "score", "tier", "reason", "set_fields", "approve",
               "object")
MERGED_TYPES = {t.value: t for t in (ObjectType.ACCOUNT, ObjectType.CONTACT, ObjectType.LEAD)}
"""What a plan's ``object`` column may say (plans written before it existed merge accounts)."""
YES = frozenset({"yes", "y", "true", "1", "x"})
NO = frozenset({"no", "n", "false", "0"})


class PlanFileError(ValueError):
    """A plan file that cannot be read back; the message names the file, cluster and row."""


def write_plan(plan: MergePlan, path: Path) -> None:
    """Write ``plan`` as CSV, JSON or HTML, by the file's suffix."""
    writers = {".csv": _write_csv, ".json": _write_json, ".html": _write_html}
    writer = writers.get(path.suffix.lower())
    if writer is None:
        raise PlanFileError(f"{path}: unknown plan format {path.suffix!r}; name the file .csv, .json or .html")
    path.parent.mkdir(parents=True, exist_ok=True)
    writer(plan, path)


def read_plan(path: Path) -> list[ClusterPlan]:
    """The clusters of a plan file written by ``write_plan`` (CSV or JSON), with the admin's approvals."""
    if path.suffix.lower() == ".json":
        return _read_json(path)
    if path.suffix.lower() == ".csv":
        return _read_csv(path)
    raise PlanFileError(f"{path}: only .csv and .json plans can be applied (the HTML report is for reading)")


def _rows(cluster: ClusterPlan) -> Iterable[dict[str, str]]:
    for record_id, name in cluster.names.items():
        master = record_id == cluster.master_id
        yield {
            "cluster_id": cluster.cluster_id, "record_id": record_id, "name": name,
            "master": "yes" if master else "", "score": f"{cluster.score:.0f}", "tier": cluster.tier.value,
            "reason": cluster.reason, "set_fields": json.dumps(cluster.fields, sort_keys=True) if master else "",
            "approve": "yes" if cluster.approved else "", "object": cluster.object.value,
        }


def _write_csv(plan: MergePlan, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for cluster in plan.clusters:
            writer.writerows(_rows(cluster))


def _decision(path: Path, row: dict[str, str]) -> bool | None:
    value = (row.get("approve") or "").strip().lower()
    if value in YES:
        return True
    if value in NO:
        return False
    if value:
        raise PlanFileError(f"{path}: cluster {row['cluster_id']}, record {row['record_id']}: approve={value!r} "
                            "is not yes, no or empty")
    return None


def _cluster_from_rows(path: Path, cluster_id: str, rows: list[dict[str, str]]) -> ClusterPlan:
    masters = [r for r in rows if (r.get("master") or "").strip().lower() in YES]
    if len(masters) != 1:
        raise PlanFileError(f"{path}: cluster {cluster_id} has {len(masters)} rows marked master; mark exactly one")
    master = masters[0]
    decisions = {r["record_id"]: _decision(path, r) for r in rows}
    if decisions[master["record_id"]] is False:
        raise PlanFileError(f"{path}: cluster {cluster_id}: the master {master['record_id']} says approve=no; "
                            "move the master flag to another row, or clear approve on the whole cluster")
    losers = tuple(r["record_id"] for r in rows if r is not master and decisions[r["record_id"]] is not False)
    try:
        fields = json.loads(master.get("set_fields") or "{}")
    except json.JSONDecodeError as exc:
        raise PlanFileError(f"{path}: cluster {cluster_id}: set_fields is not JSON ({exc})") from None
    return ClusterPlan(
        object=_object(path, cluster_id, rows[0].get("object")),
        cluster_id=cluster_id, tier=Tier(rows[0]["tier"]), score=float(rows[0]["score"] or 0),
        master_id=master["record_id"], loser_ids=losers,
        names={r["record_id"]: r["name"] for r in sorted(rows, key=lambda r: r is not master)},
        fields=fields, reason=master["reason"], approved=any(d is True for d in decisions.values()),
    )


def _object(path: Path, cluster_id: str, value: object) -> ObjectType:
    found = MERGED_TYPES.get(str(value or "account").strip().lower())
    if found is None:
        raise PlanFileError(f"{path}: cluster {cluster_id}: object={value!r} is not account, contact or lead")
    return found


def _read_csv(path: Path) -> list[ClusterPlan]:
    with path.open(newline="", encoding="utf-8-sig") as source:
        reader = csv.DictReader(source)
        missing = [c for c in ("cluster_id", "record_id", "master", "approve") if c not in (reader.fieldnames or ())]
        if missing:
            raise PlanFileError(f"{path}: missing column(s) {', '.join(missing)}; write plans with warden dedupe plan")
        grouped: dict[str, list[dict[str, str]]] = {}
        for row in reader:
            grouped.setdefault(row["cluster_id"], []).append(row)
    return [_cluster_from_rows(path, cluster_id, rows) for cluster_id, rows in grouped.items()]


def _as_json(plan: MergePlan) -> dict[str, Any]:
    return {
        "summary": plan.summary(),
        "clusters": [{**asdict(c), "tier": c.tier.value, "loser_ids": list(c.loser_ids)} for c in plan.clusters],
        "findings": [{"rule": f.rule, "record_id": f.record_id, "reason": f.reason, **f.evidence}
                     for f in plan.findings],
    }


def _write_json(plan: MergePlan, path: Path) -> None:
    path.write_text(json.dumps(_as_json(plan), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _read_json(path: Path) -> list[ClusterPlan]:
    try:
        clusters = json.loads(path.read_text(encoding="utf-8"))["clusters"]
        return [replace(ClusterPlan(**{**c, "loser_ids": tuple(c["loser_ids"])}), tier=Tier(c["tier"]),
                        object=_object(path, c["cluster_id"], c.get("object"))) for c in clusters]
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanFileError(f"{path}: not a merge plan written by warden dedupe plan ({exc})") from None


def _write_html(plan: MergePlan, path: Path) -> None:
    esc = html.escape
    parts = [
        "<!doctype html><meta charset='utf-8'><title>Merge plan</title>",
        "<style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:left}"
        ".master{font-weight:bold}section{margin-bottom:1.5em}</style>",
        f"<h1>Merge plan</h1><p>{esc(plan.summary())}</p>",
    ]
    for c in plan.clusters:
        rows = "".join(
            f"<tr class='{'master' if i == c.master_id else ''}'><td>{esc(i)}</td><td>{esc(n)}</td>"
            f"<td>{'master' if i == c.master_id else 'merged into master'}</td></tr>"
            for i, n in c.names.items()
        )
        changes = ", ".join(f"{esc(k)} = {esc(str(v))}" for k, v in c.fields.items()) or "none"
        parts.append(
            f"<section><h2>{esc(c.cluster_id)}: {c.tier.value} tier, score {c.score:.0f}"
            f"{' (approved)' if c.approved else ''}</h2><table>{rows}</table>"
            f"<p>Master's new values: {changes}</p><p>{esc(c.reason)}</p></section>"
        )
    parts.extend(f"<p>Not proposed: {esc(f.reason)}</p>" for f in plan.findings)
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
