"""The reports as people and scripts read them: JSON for ``--json``, HTML pages for ``--html``."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from pathlib import Path

from notify.lead_report import LeadReport
from notify.pipeline_report import PipelineReport
from notify.render import environment
from notify.sla_report import SlaReport


def as_json(report: PipelineReport | SlaReport | LeadReport) -> str:
    """One JSON object with every figure of the report (datetimes in ISO-8601)."""
    return json.dumps(dataclasses.asdict(report), default=_iso, ensure_ascii=False, indent=2)


def pipeline_html(report: PipelineReport) -> str:
    return environment().get_template("pipeline.html.j2").render(report=report)


def write_pipeline_html(report: PipelineReport, folder: Path) -> Path:
    """``pipeline.html`` in ``folder`` (created if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / "pipeline.html"
    page.write_text(pipeline_html(report), encoding="utf-8")
    return page


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")
