"""`warden report sla|pipeline` on the demo org: figures recomputed here straight from the demo CRM's tables."""

from __future__ import annotations

import json
import sqlite3
import statistics
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import structlog
from typer.testing import CliRunner

from config.policy_file import load_policy
from config.settings import PACKAGED_POLICY
from enforcement.calendar import BusinessCalendar
from jobs.cli import app

NOW = "2026-12-03T15:00:00Z"
AS_OF = datetime.fromisoformat(NOW)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any], dict[str, Any]]]:
    """The demo, then both reports as JSON, once for the module."""
    folder = tmp_path_factory.mktemp("reports")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setenv("WARDEN_DATABASE_URL", f"sqlite:///{folder / 'warden.db'}")
        patch.setenv("WARDEN_LOCAL_CRM_URL", f"sqlite:///{folder / 'crm.db'}")
        patch.setenv("WARDEN_POLICY", str(PACKAGED_POLICY))
        runner = CliRunner()
        assert runner.invoke(app, ["demo", "--now", NOW]).exit_code == 0
        sla = runner.invoke(app, ["report", "sla", "--now", NOW, "--json"])
        pipeline = runner.invoke(app, ["report", "pipeline", "--now", NOW, "--json", "--html", str(folder / "out")])
        structlog.reset_defaults()
    assert sla.exit_code == 0, sla.output
    assert pipeline.exit_code == 0, pipeline.output
    yield folder, json.loads(sla.stdout), json.loads(pipeline.stdout)


def crm(folder: Path) -> sqlite3.Connection:
    return sqlite3.connect(folder / "crm.db")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_speed_to_first_touch_per_rep_matches_the_records(demo: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
    """Median and 90th percentile business hours to first touch, and SLA attainment, per rep and object."""
    folder, report, _ = demo
    policy = load_policy(PACKAGED_POLICY)
    calendar = BusinessCalendar(policy.calendar)
    db = crm(folder)
    owners = {i: (name, zone)
              for i, name, zone in db.execute("SELECT id, name, time_zone FROM owners WHERE is_queue = 0")}
    within = {r.object: r.within for r in policy.rules if r.kind == "sla"}  # type: ignore[union-attr]
    expected: dict[tuple[str, str], dict[str, Any]] = {}
    for obj, table, about in (("lead", "leads", "who_id"), ("opportunity", "opportunities", "what_id")):
        hours: dict[str, list[float]] = defaultdict(list)
        judged: dict[str, list[bool]] = defaultdict(list)
        new: dict[str, int] = defaultdict(int)
        since = (AS_OF - timedelta(days=30)).isoformat(timespec="microseconds")
        for record_id, owner_id, created_text in db.execute(
                f"SELECT id, owner_id, created_at FROM {table} WHERE created_at >= ? AND deleted = 0", (since,)):
            created = at(created_text)
            if created > AS_OF or owner_id not in owners or (owners[owner_id][1] is None and owner_id.startswith("q-")):
                continue
            name, zone = owners[owner_id]
            zone = zone or policy.calendar.time_zone
            new[name] += 1
            touches = [at(t) for (t,) in db.execute(
                f"SELECT completed_at FROM tasks WHERE {about} = ? AND status = 'completed' AND completed_at > ?",
                (record_id, created_text))]
            history = list(db.execute("SELECT stage, entered_at FROM stage_history WHERE object = ? AND record_id = ? "
                                      "ORDER BY entered_at", (obj, record_id)))
            moves = [at(e) for s, e in history if history and s != history[0][0] and at(e) > created]
            touched = min(touches + moves[:1], default=None)
            due = calendar.deadline(created, within[obj], zone)
            if touched is not None:
                hours[name].append(calendar.business_hours_between(created, touched, zone))
                judged[name].append(touched <= due)
            elif due <= AS_OF:
                judged[name].append(False)
        for name in new:
            h = hours[name]
            expected[(obj, name)] = {
                "new": new[name], "touched": len(h),
                "median_hours": round(statistics.median(h), 2) if h else None,
                "p90_hours": round(float(np.percentile(h, 90)), 2) if h else None,
                "attainment": round(100 * sum(judged[name]) / len(judged[name]), 1) if judged[name] else None,
            }
    rows = {(r["object"], r["name"]): r for r in report["rows"] if r["scope"] == "rep"}
    assert set(rows) == set(expected)
    for key, figures in expected.items():
        got = {k: rows[key][k] for k in figures}
        assert got == pytest.approx(figures, abs=0.011), key
    assert sum(r["touched"] for k, r in rows.items() if k[0] == "lead") > 10


def test_waterfall_and_tendencies_match_the_records(demo: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
    """Company-wide conversion and days per opportunity stage, and each rep's slip and amount change."""
    folder, _, report = demo
    policy = load_policy(PACKAGED_POLICY)
    order = [s.name for s in policy.stages.opportunity if not s.closed] + ["Closed Won"]
    db = crm(folder)
    deals = {i: (owner, bool(closed), bool(won), stage) for i, owner, closed, won, stage in db.execute(
        "SELECT id, owner_id, is_closed, is_won, stage FROM opportunities WHERE deleted = 0")}
    history: dict[str, list[tuple[str, datetime, float | None, str | None]]] = defaultdict(list)
    for record_id, stage, entered, amount, close in db.execute(
            "SELECT record_id, stage, entered_at, amount, close_date FROM stage_history WHERE object = 'opportunity' "
            "ORDER BY entered_at"):
        history[record_id].append((stage, at(entered), amount, close))
    furthest: dict[str, int] = {}
    days: dict[int, list[float]] = defaultdict(list)
    for deal_id, (_, _, _, stage) in deals.items():
        visits = [(s, e) for s, e, _, _ in history[deal_id]] or [(stage, None)]
        visits = [v for n, v in enumerate(visits) if n == 0 or visits[n - 1][0] != v[0]]
        reached = [order.index(s) for s, _ in visits if s in order]
        if reached:
            furthest[deal_id] = max(reached)
        for (s, entered), (_, left) in pairwise(visits):
            if s in order:
                days[order.index(s)].append((left - entered).total_seconds() / 86400)
    company = next(w for w in report["waterfalls"] if w["object"] == "opportunity" and w["scope"] == "company")
    for i, step in enumerate(company["steps"]):
        reached = [d for d, f in furthest.items() if f >= i]
        advanced = sum(furthest[d] > i for d in reached)
        dropped = sum(furthest[d] == i and deals[d][1] and not deals[d][2] for d in reached)
        assert (step["stage"], step["reached"], step["advanced"], step["dropped"]) == (
            order[i], len(reached), advanced, dropped)
        assert step["conversion"] == pytest.approx(round(100 * advanced / (advanced + dropped), 1))
        assert step["median_days"] == pytest.approx(round(statistics.median(days[i]), 1))
    assert company["steps"][0]["benchmark_conversion"] == 40.0 and company["steps"][0]["benchmark_days"] == 60.0

    names = {i: n for i, n in db.execute("SELECT id, name FROM owners")}
    slips: dict[str, list[int]] = defaultdict(list)
    for deal_id, (owner, _, won, _) in deals.items():
        if won and history[deal_id]:
            first_close = next(date.fromisoformat(c) for _, _, _, c in history[deal_id] if c)
            won_on = next(e for s, e, _, _ in history[deal_id] if s == "Closed Won")
            slips[names[owner]].append((won_on.date() - first_close).days)
    tendencies = {t["rep"]: t for t in report["tendencies"]}
    assert {rep: t["median_slip_days"] for rep, t in tendencies.items()} == {
        rep: statistics.median(s) for rep, s in slips.items()}
    assert tendencies["Taylor Brooks"]["median_slip_days"] > 20 > tendencies["Jordan Blake"]["median_slip_days"]
    assert tendencies["Taylor Brooks"]["median_amount_change"] < 0 < tendencies["Jordan Blake"]["median_amount_change"]
    assert (folder / "out" / "pipeline.html").read_text().count("waterfall") >= 2




def test_the_digest_shows_the_teams_speed_and_the_monthly_pipeline(
    demo: tuple[Path, dict[str, Any], dict[str, Any]],
) -> None:
    """Maria's digest (the week 1 December falls in) quotes her team's figures from both reports."""
    folder, sla, pipeline = demo
    text = (folder / ".warden" / "digests" / "maria-lopez-example-com.eml").read_text()
    html = (folder / ".warden" / "digests" / "maria-lopez-example-com.html").read_text()
    east = next(r for r in sla["rows"] if r["scope"] == "team" and r["name"] == "East" and r["object"] == "lead")
    assert "Speed to first touch, last 30 days" in html
    assert f"Leads &middot; East ({east['new']})" in html and f"{east['median_hours']:.1f} h" in html
    assert "This month: the pipeline&#39;s shape" in html or "This month: the pipeline's shape" in html
    waterfall = next(w for w in pipeline["waterfalls"] if w["scope"] == "team" and w["name"] == "East"
                     and w["object"] == "opportunity")
    first = waterfall["steps"][0]
    assert f"Discovery -> First Demo: {first['reached']} reached, {first['conversion']:.0f}% went on" in text
    taylor = next(t for t in pipeline["tendencies"] if t["rep"] == "Taylor Brooks")
    assert f"Taylor Brooks: {taylor['won_deals']} won, {taylor['median_slip_days']:+.0f} days" in text


def test_the_html_page_has_every_team_and_rep(demo: tuple[Path, dict[str, Any], dict[str, Any]]) -> None:
    """`--html DIR` writes one page with the company's, each team's and each rep's waterfalls."""
    folder, _, pipeline = demo
    page = (folder / "out" / "pipeline.html").read_text()
    for waterfall in pipeline["waterfalls"]:
        if waterfall["steps"]:
            title = f"{waterfall['object'].capitalize()} waterfall &middot; {waterfall['name']}"
            assert title in page or title.replace("'", "&#39;") in page
