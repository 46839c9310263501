"""What an admin reviews: the facts each record is judged by, in the CSV and a page that reads on any screen."""

from __future__ import annotations

import csv
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from config.policy import Policy
from dedupe.plan import MergePlan, build_plan
from dedupe.plan_files import read_plan, write_plan
from dedupe.survivor import AccountFacts
from domain.records import Account, ObjectType

CREATED = datetime(2021, 3, 4, tzinfo=UTC)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Links:
    def url(self, object_type: ObjectType, record_id: str) -> str | None:
        return f"https://crm.example/{object_type.value}/{record_id}"


def account(record_id: str, name: str, **fields: object) -> Account:
    return Account(id=record_id, name=name, owner_id="u-7", created_at=CREATED, updated_at=CREATED, **fields)


def acme_plan(extra: int = 0) -> MergePlan:
    long_site = "https://www.acme.com/" + "a-very-long-path-segment-" * 8
    facts = [
        AccountFacts(account("a1", "Acme Products", website="acme.com", phone="617 555 0100", billing_city="Boston"),
                     open_opportunities=2, activities=5, contacts=3, opportunities=4),
        AccountFacts(account("a2", "ACME PRODUCTS, INC.", website=long_site, billing_city="Boston"), activities=1),
        *(AccountFacts(account(f"x{i}", "Acme Products Inc", billing_city="Boston")) for i in range(extra)),
    ]
    return build_plan(facts, Policy(), links=Links(), owners={"u-7": "Dana Scully"})


def test_csv_shows_what_an_admin_decides_by_and_reads_it_back(tmp_path: Path) -> None:
    """Website, phone, city, owner, open deals, children, created date and the CRM link, per record."""
    path = tmp_path / "plan.csv"
    write_plan(acme_plan(), path)
    row = next(r for r in csv.DictReader(path.open(newline="")) if r["record_id"] == "a1")
    assert {k: row[k] for k in ("website", "phone", "city", "owner", "open_deals", "contacts", "opportunities",
                                "tasks", "created", "link")} == {
        "website": "acme.com", "phone": "617 555 0100", "city": "Boston", "owner": "Dana Scully", "open_deals": "2",
        "contacts": "3", "opportunities": "4", "tasks": "5", "created": "2021-03-04",
        "link": "https://crm.example/account/a1"}  # fmt: skip
    assert read_plan(path)[0].records["a1"].open_deals == 2


def test_html_shows_each_record_with_its_link_and_the_apply_hint(tmp_path: Path) -> None:
    """The page has one card per record, linked to the CRM, and says how to apply through the CSV."""
    path = tmp_path / "plan.html"
    write_plan(acme_plan(), path)
    page = path.read_text()
    assert "href='https://crm.example/account/a2'" in page and "Dana Scully" in page
    assert "3 contacts, 4 deals, 5 tasks" in page and "warden dedupe apply plan.csv" in page


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
@pytest.mark.parametrize("width", [1280, 390])
def test_the_page_never_scrolls_sideways_in_chromium(tmp_path: Path, width: int) -> None:
    """Laid out by headless Chromium at desktop and phone widths, no element reaches past the page's width.

    Headless Chromium keeps its window at least 500 px wide, so the page itself is set to the phone's
    width (the stylesheet has no media queries: its grid and wrapping follow the page's width).
    """
    path = tmp_path / "plan.html"
    write_plan(acme_plan(extra=20), path)
    probe = (f"<script>document.documentElement.style.width='{width}px';"
             "const right=Math.max(...[...document.querySelectorAll('body *')]"
             ".map(e=>e.getBoundingClientRect().right));"
             "document.body.dataset.wide=Math.ceil(right)</script>")
    path.write_text(path.read_text().replace("</body>", probe + "</body>"))
    assert CHROMIUM is not None
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--window-size={width},900", "--dump-dom",
         path.as_uri()], capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
    scroll = done.stdout.split('data-wide="')[1].split('"')[0]
    assert int(scroll) <= width, f"content reaches {scroll} px on a {width} px page"
