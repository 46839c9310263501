"""Previews: .eml and .html files per manager, and the HTML as a browser renders it."""

from __future__ import annotations

import shutil
import subprocess
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread
from sqlalchemy import func, select

from connectors.hubspot import HubSpotLinks
from notify.digest import DigestConfigError, run_digest
from store.models import ActionRow, RunRow
from tests.notify.conftest import CONNECTION, NOW, Org, make_policy

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def preview(org: Org, folder: Path) -> list[Path]:
    report = run_digest(org.sessions, make_policy(), CONNECTION, NOW, smtp=None, preview_dir=folder, send=False,
                        link_base=HubSpotLinks("4711"))
    assert [d.status for d in report.digests] == ["previewed", "previewed"]
    return [f for d in report.digests for f in d.files]


def test_preview_writes_eml_and_html_per_manager_and_touches_no_ledger(org: Org, tmp_path: Path) -> None:
    """A preview leaves one .eml and one .html (with its chart) per manager and records nothing."""
    files = preview(org, tmp_path)

    assert sorted(f.name for f in files) == [
        "maria-lopez-example-com.eml", "maria-lopez-example-com.html", "ops-example-com.eml", "ops-example-com.html"]
    eml = message_from_bytes((tmp_path / "maria-lopez-example-com.eml").read_bytes(), policy=email_policy.default)
    assert eml["To"] == "Maria Lopez <maria.lopez@example.com>"
    html = (tmp_path / "maria-lopez-example-com.html").read_text()
    assert 'src="maria-lopez-example-com.png"' in html
    assert "https://app.hubspot.com/contacts/4711/record/0-3/006A1" in html
    assert (tmp_path / "maria-lopez-example-com.png").read_bytes()[:4] == b"\x89PNG"
    with org.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ActionRow)) == 0
        assert session.scalar(select(func.count()).select_from(RunRow).where(RunRow.job == "digest")) == 0


def test_policy_without_digest_block_is_explained(org: Org) -> None:
    """Without a digest: block the error says what to add."""
    policy = make_policy().model_copy(update={"digest": None})
    with pytest.raises(DigestConfigError, match="no digest: block; add one with at least fallback_recipient"):
        run_digest(org.sessions, policy, CONNECTION, NOW, smtp=None, preview_dir=None, send=False,
                   link_base=HubSpotLinks("4711"))


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_html_renders_in_headless_chromium(org: Org, tmp_path: Path) -> None:
    """The HTML digest renders in a real browser into a picture with text, table lines and the chart."""
    preview(org, tmp_path)
    page, shot = tmp_path / "maria-lopez-example-com.html", tmp_path / "shot.png"
    assert CHROMIUM is not None
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=760,900", f"--screenshot={shot}", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    pixels = imread(shot)[:, :, :3]
    not_background = np.any(np.abs(pixels - pixels[0, 0]) > 0.1, axis=2).mean()
    colours = len(np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0))
    assert pixels.shape[:2] == (900, 760)
    assert not_background > 0.05
    assert colours > 50
