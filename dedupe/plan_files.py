"""Merge plans as files: CSV for review in a spreadsheet (``dedupe.plan_csv``), JSON for scripts, HTML to read."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from dedupe import plan_cells as cells
from dedupe.plan import ClusterPlan, MergePlan
from dedupe.plan_cells import BadValue
from dedupe.plan_csv import PlanFileError, read_csv, write_csv
from domain.records import ObjectType

__all__ = ["PlanFileError", "read_plan", "write_plan"]


def write_plan(plan: MergePlan, path: Path) -> None:
    """Write ``plan`` as CSV, JSON or HTML, by the file's suffix."""
    writers = {".csv": write_csv, ".json": _write_json, ".html": _write_html}
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
        return read_csv(path)
    raise PlanFileError(f"{path}: only .csv and .json plans can be applied (the HTML report is for reading)")


def _as_json(plan: MergePlan) -> dict[str, Any]:
    return {
        "summary": plan.summary(),
        "clusters": [{**asdict(c), "tier": c.tier.value, "loser_ids": list(c.loser_ids)} for c in plan.clusters],
        "findings": [{"rule": f.rule, "record_id": f.record_id, "reason": f.reason, **f.evidence}
                     for f in plan.findings],
    }


def _write_json(plan: MergePlan, path: Path) -> None:
    path.write_text(json.dumps(_as_json(plan), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


_JSON_FIELDS: dict[str, tuple[Callable[[Any], object], object]] = {
    "cluster_id": (cells.text, None), "tier": (cells.tier, None), "score": (cells.score, None),
    "master_id": (cells.text, None), "loser_ids": (cells.id_list, None), "names": (cells.names, None),
    "fields": (cells.json_object, {}), "reason": (str, ""), "approved": (cells.flag, False),
    "joined": (cells.names, {}), "object": (cells.merged_type, ObjectType.ACCOUNT),
}
"""Each field of a JSON plan's cluster: its check, and its default (``None``: required)."""


def _json_cluster(path: Path, number: int, raw: object) -> ClusterPlan:
    label = f"cluster {number}" + (f" ({raw['cluster_id']})" if isinstance(raw, dict) and "cluster_id" in raw else "")
    if not isinstance(raw, dict):
        raise PlanFileError(f"{path}: {label} is not an object")
    values: dict[str, Any] = {}
    for name, (check, default) in _JSON_FIELDS.items():
        if name not in raw:
            if default is None:
                raise PlanFileError(f"{path}: {label}: missing {name}")
            values[name] = default
            continue
        try:
            values[name] = check(raw[name])
        except BadValue as exc:
            raise PlanFileError(f"{path}: {label}, {name}: {exc}") from None
    return ClusterPlan(**values)


def _read_json(path: Path) -> list[ClusterPlan]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PlanFileError(f"{path}: not a merge plan written by warden dedupe plan ({exc})") from None
    clusters = document.get("clusters") if isinstance(document, dict) else None
    if not isinstance(clusters, list):
        raise PlanFileError(f"{path}: 'clusters' is not a list; write plans with warden dedupe plan")
    return [_json_cluster(path, number, raw) for number, raw in enumerate(clusters, start=1)]


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
