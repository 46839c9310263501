"""The digest's picture: open items by rep and rule, and the trend over the last periods, as a PNG.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no display, no global state), so
it is safe in a worker process and renders the same everywhere.
"""

from __future__ import annotations

import io

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from notify.contents import Digest
from notify.render import header_safe

REPS_SHOWN = 8


def render_chart(digest: Digest) -> bytes:
    """A 720x380 PNG: stacked bars of open items per rep and category, and the team's trend line if it has one.

    Each category has its fixed colour (``notify.categories``), so a colour means the same in every digest.
    """
    figure = Figure(figsize=(7.2, 3.8), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    if digest.trend:
        by_rep, trend = figure.subplots(1, 2, width_ratios=(3, 2))
        _trend(trend, digest)
    else:
        by_rep = figure.subplots(1, 1)
    _bars(by_rep, digest)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", facecolor="white")
    return buffer.getvalue()


def _bars(axes: Axes, digest: Digest) -> None:
    reps = [r for r in digest.reps if r.total][:REPS_SHOWN][::-1]
    colours = digest.colours
    titles = sorted({g.title for r in reps for g in r.rules}, key=lambda t: (-_count(digest, t), t))
    left = [0] * len(reps)
    for title in titles:
        colour = colours[title]
        counts = [sum(g.count for g in r.rules if g.title == title) for r in reps]
        axes.barh([header_safe(r.name) for r in reps], counts, left=left, color=colour, label=title, height=0.6)
        left = [a + b for a, b in zip(left, counts, strict=True)]
    axes.set_title("Open items by rep", fontsize=10, loc="left")
    axes.tick_params(labelsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    if titles:
        axes.figure.legend(fontsize=7, frameon=False, loc="outside lower center", ncols=3)
    else:
        axes.text(0.5, 0.5, "Nothing open", ha="center", va="center", transform=axes.transAxes)


def _count(digest: Digest, title: str) -> int:
    return sum(g.count for r in digest.reps for g in r.rules if g.title == title)


def _trend(axes: Axes, digest: Digest) -> None:
    labels = [label for label, _ in digest.trend]
    values = [count for _, count in digest.trend]
    axes.plot(labels, values, marker="o", color="#2c3e50")
    axes.fill_between(labels, values, color="#2c3e50", alpha=0.08)
    axes.set_title("Team total, last periods", fontsize=10, loc="left")
    axes.set_ylim(bottom=0, top=max([*values, 1]) * 1.2)
    axes.tick_params(labelsize=7)
    axes.tick_params(axis="x", labelrotation=30)
    axes.spines[["top", "right"]].set_visible(False)
