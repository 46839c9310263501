"""A merge plan as a page to read: each cluster's records side by side, what survives, and why.

Records are cards in a grid that puts them side by side on a wide screen and one above the other on
a phone, and no text runs wider than its card (long websites and ids wrap), so nothing scrolls
sideways at 390 px. Large clusters show their first cards and fold the rest. The page is for reading:
the hint at the top says how to approve and apply through the CSV or JSON plan.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from dedupe.plan import ClusterPlan, MergePlan
from dedupe.record_view import RecordView

SHOWN = 12
"""Records of a cluster shown before the rest are folded away."""
CSS = """
:root{--fg:#1d2433;--muted:#5b6475;--line:#d9dee7;--bg:#f4f6f9;--card:#fff;--accent:#2458c6;
--auto:#17803d;--review:#a65300}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);
background:var(--bg)}
main{max-width:1200px;margin:0 auto;padding:16px}
h1{font-size:1.45rem;margin:.2em 0 .4em}
h2{font-size:1.1rem;margin:0}
.hint{background:#eef3ff;border:1px solid #c9d7fb;border-radius:8px;padding:10px 12px}
code{font-size:.88em;background:#e9edf3;padding:1px 4px;border-radius:4px;overflow-wrap:anywhere}
.cluster{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px;margin:16px 0}
.head{display:flex;flex-wrap:wrap;gap:6px 10px;align-items:center}
.badge{display:inline-block;border-radius:999px;padding:1px 9px;font-size:.8rem;color:#fff}
.auto{background:var(--auto)}.review{background:var(--review)}.approved{background:var(--accent)}
.why,.changes{margin:.5em 0;overflow-wrap:anywhere}.why{color:var(--muted)}
.records{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,250px),1fr));gap:10px}
.record{border:1px solid var(--line);border-radius:8px;padding:10px;min-width:0}
.record.master{border:2px solid var(--accent);background:#f8faff}
.record h3{font-size:1rem;margin:0;overflow-wrap:anywhere}
.role{font-size:.8rem;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
dl{display:grid;grid-template-columns:auto minmax(0,1fr);gap:2px 10px;margin:8px 0 0;font-size:.9rem}
dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
.joined{font-size:.85rem;color:var(--muted);margin:8px 0 0;overflow-wrap:anywhere}
details>summary{cursor:pointer;color:var(--accent);margin:10px 0 6px}
a{color:var(--accent)}
"""


def _details(view: RecordView | None, record_id: str) -> str:
    if view is None:
        return f"<dl><dt>Id</dt><dd>{escape(record_id)}</dd></dl>"
    children = f"{view.contacts} contacts, {view.opportunities} deals, {view.tasks} tasks"
    rows = [("Id", record_id), ("Website", view.website), ("Phone", view.phone), ("City", view.city),
            ("Owner", view.owner), ("Open deals", str(view.open_deals)), ("Children", children),
            ("Created", view.created)]  # fmt: skip
    return "<dl>" + "".join(f"<dt>{label}</dt><dd>{escape(value or '—')}</dd>" for label, value in rows) + "</dl>"


def _card(cluster: ClusterPlan, record_id: str) -> str:
    master = record_id == cluster.master_id
    view = cluster.records.get(record_id)
    name = escape(cluster.names.get(record_id, record_id))
    title = f"<a href='{escape(view.link)}'>{name}</a>" if view is not None and view.link else name
    role = "master: survives" if master else "merged into the master"
    joined = cluster.joined.get(record_id)
    return (f"<article class='record{' master' if master else ''}'><div class='role'>{role}</div><h3>{title}</h3>"
            f"{_details(view, record_id)}{f'<p class=joined>{escape(joined)}</p>' if joined else ''}</article>")


def _cluster(cluster: ClusterPlan) -> str:
    ids = [cluster.master_id, *(i for i in cluster.names if i != cluster.master_id)]
    cards = [_card(cluster, record_id) for record_id in ids]
    folded = (f"<details><summary>{len(cards) - SHOWN} more records</summary><div class='records'>"
              f"{''.join(cards[SHOWN:])}</div></details>") if len(cards) > SHOWN else ""
    changes = ", ".join(f"{escape(k)} = {escape(str(v))}" for k, v in cluster.fields.items()) or "none"
    approved = "<span class='badge approved'>approved</span>" if cluster.approved else ""
    return (f"<section class='cluster' id='{escape(cluster.cluster_id)}'><div class='head'>"
            f"<h2>{escape(cluster.cluster_id)}</h2><span class='badge {cluster.tier.value}'>{cluster.tier.value} tier"
            f"</span><span>score {cluster.score:.0f} · {len(ids)} records</span>{approved}</div>"
            f"<p class='why'>{escape(cluster.reason)}</p><p class='changes'>Master's new values: {changes}</p>"
            f"<div class='records'>{''.join(cards[:SHOWN])}</div>{folded}</section>")


def write_html(plan: MergePlan, path: Path) -> None:
    """The plan as a static, self-contained HTML page."""
    hint = ("This page is for reading. To merge, write the plan as CSV or JSON "
            "(<code>warden dedupe plan --out plan.csv</code>), set <code>approve</code> to <code>yes</code> on the "
            "clusters to merge (<code>no</code> on a record leaves it out), then run "
            "<code>warden dedupe apply plan.csv</code> (a dry run) and again with <code>--apply</code>.")
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'><title>Merge plan</title>",
        f"<style>{CSS}</style></head><body><main><h1>Merge plan</h1>",
        f"<p>{escape(plan.summary())}</p><p class='hint'>{hint}</p>",
        *(_cluster(c) for c in plan.clusters),
        *(f"<p>Not proposed: {escape(f.reason)}</p>" for f in plan.findings),
        "</main></body></html>",
    ]
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
