"""The demo's digests as a manager sees them in a browser: at 1280 px and on a 390 px phone."""

from __future__ import annotations

import html as html_text
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import structlog
from typer.testing import CliRunner

from config.settings import PACKAGED_POLICY
from jobs.cli import app
from notify.categories import CATEGORIES

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NOW = "2026-12-03T12:00:00Z"
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`warden demo` once, in a folder of its own: its digests and record view."""
    folder = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        patch.setenv("WARDEN_DATABASE_URL", f"sqlite:///{folder / 'warden.db'}")
        patch.setenv("WARDEN_LOCAL_CRM_URL", f"sqlite:///{folder / 'crm.db'}")
        patch.setenv("WARDEN_POLICY", str(PACKAGED_POLICY))
        result = CliRunner().invoke(app, ["demo", "--now", NOW])
        structlog.reset_defaults()
    assert result.exit_code == 0, result.stdout
    yield folder / ".warden"


def _browser(page: Path, *args: str, url: str | None = None) -> str:
    """What Chromium prints for ``page`` (or ``url``) with ``args``: a DOM dump, or nothing for a screenshot."""
    assert CHROMIUM is not None
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", f"--user-data-dir={page.parent / '.profile'}",
         "--window-size=1400,1000", "--virtual-time-budget=5000", *args, url or page.as_uri()],
        check=True, capture_output=True, text=True, timeout=120,
    )
    return done.stdout


def _overflow(page: Path, width: int) -> tuple[int, int]:
    """(pixels the page is wider than a ``width`` px viewport, that viewport's width), measured by Chromium.

    Headless Chromium will not make its window narrower than 500 px, so the page is measured inside an
    iframe of the phone's width, which reports back to the page the test reads.
    """
    probe = ('<script>addEventListener("load",()=>{const d=document.documentElement;'
             'parent.postMessage((d.scrollWidth-d.clientWidth)+"/"+d.clientWidth,"*")});</script>')
    framed = page.with_name(f"probe-{page.name}")
    framed.write_text(page.read_text().replace("</body>", probe + "</body>"))
    wrapper = page.with_name(f"phone-{width}-{page.name}")
    wrapper.write_text(f'<html><body style="margin:0"><iframe src="{framed.name}" '
                       f'style="width:{width}px;height:900px;border:0"></iframe><script>addEventListener("message",'
                       'e=>document.body.setAttribute("data-result",e.data))</script></body></html>')
    found = re.search(r'data-result="(\d+)/(\d+)"', _browser(wrapper, "--dump-dom"))
    assert found, "the page never reported its width"
    return int(found[1]), int(found[2])


def _digests(demo: Path) -> list[Path]:
    pages = sorted(p for p in (demo / "digests").glob("*.html") if not p.name.startswith(("probe-", "phone-")))
    assert len(pages) >= 4
    return pages


@pytest.mark.parametrize("width", [390, 1280])
def test_no_digest_scrolls_sideways(demo: Path, width: int) -> None:
    """Every demo digest fits the screen: nothing wider than a 390 px phone or a 1280 px desktop."""
    for page in _digests(demo):
        overflow, viewport = _overflow(page, width)
        assert viewport >= width - 20
        assert overflow == 0, f"{page.name} is {overflow} px wider than a {width} px screen"


def test_screenshots_at_both_widths(demo: Path) -> None:
    """Chromium draws the manager's digest at desktop and phone widths into pictures with content."""
    page = demo / "digests" / "maria-lopez-example-com.html"
    for width in (1280, 390):
        shot = demo / f"maria-{width}.png"
        _browser(page, f"--window-size={width},2000", "--hide-scrollbars", f"--screenshot={shot}")
        assert shot.read_bytes()[:4] == b"\x89PNG" and shot.stat().st_size > 20_000


def test_worst_items_first_in_every_group(demo: Path) -> None:
    """Within each category of each rep, items are ordered from the longest-open problem down."""
    checked = 0
    for page in _digests(demo):
        for group in re.split(r'<p style="margin:12px 0 2px 0;|</td></tr>', page.read_text())[1:]:
            ages = [0 if a == "since today" else int(a.split()[1]) for a in re.findall(r"open \d+ days?|since today",
                                                                                       group)]
            assert ages == sorted(ages, reverse=True), f"{page.name}: {ages}"
            checked += len(ages) > 1
    assert checked > 5


def test_each_category_has_its_one_colour_in_every_digest(demo: Path) -> None:
    """A category's swatch is the same fixed colour in every digest it appears in."""
    seen: dict[str, set[str]] = {}
    swatch = re.compile(r'background-color:(#[0-9a-f]{6});margin-right:6px;"></span>([^:<]+):')
    for page in _digests(demo):
        for colour, title in swatch.findall(page.read_text()):
            seen.setdefault(html_text.unescape(title), set()).add(colour)
    expected = {c.title: c.colour for c in CATEGORIES.values()}
    assert len(seen) >= 5
    assert {title: colours for title, colours in seen.items()} == {t: {expected[t]} for t in seen}


def test_record_links_open_the_named_record(demo: Path) -> None:
    """Every item links to the demo CRM's record view, and the record it opens has the link's name."""
    view = demo / "crm" / "records.html"
    data = json.loads(re.search(r'<script id="data" type="application/json">(.*?)</script>',
                                view.read_text(), re.S)[1].replace("<\\/", "</"))
    links = re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', (demo / "digests" / "maria-lopez-example-com.html")
                       .read_text())
    assert len(links) > 20
    for url, name in links:
        parts = urlsplit(url)
        assert Path(unquote(parts.path)) == view.resolve()
        kind, record_id = unquote(parts.fragment).split("/")
        record = data["records"][kind][record_id]
        assert html_text.unescape(name) == (record.get("name") or record.get("subject"))
    url, name = links[0]
    assert f"<h1>{name}</h1>" in _browser(view, "--dump-dom", url=url)


def test_marketing_digest_at_both_widths(demo: Path) -> None:
    """Marketing's lead report, as Chromium lays it out at desktop and phone widths: tables, reasons, no overflow."""
    page = demo / "digests" / "marketing-example-com.html"
    dom = _browser(page, "--dump-dom")
    assert "Lead acceptance, leads created since" in dom and "Why sales rejected leads" in dom
    for width in (1280, 390):
        assert _overflow(page, width)[0] == 0
        shot = demo / f"marketing-{width}.png"
        _browser(page, f"--window-size={width},1600", "--hide-scrollbars", f"--screenshot={shot}")
        assert shot.read_bytes()[:4] == b"\x89PNG" and shot.stat().st_size > 20_000
