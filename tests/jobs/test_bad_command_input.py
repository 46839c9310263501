"""`warden report`, `doctor` and `policy init` read their inputs as every command does: one line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.jobs.probe_support import NOW, warden

REPORTS = ("sla", "pipeline", "leads")


@pytest.mark.parametrize("report", REPORTS)
def test_a_bad_setting_is_one_line(probe_env: Path, monkeypatch: pytest.MonkeyPatch, report: str) -> None:
    """A malformed variable stops a report at start, named, like every other command."""
    monkeypatch.setenv("SMTP_PORT", "abc")
    assert warden("report", report, "--now", NOW).line.startswith("SMTP_PORT: ")


@pytest.mark.parametrize("report", REPORTS)
@pytest.mark.parametrize(("moment", "says"), [
    ("0001-01-01T00:00:00Z", "out of range"),
    ("9999-12-31T23:59:59+00:00", "out of range"),
    ("2026-11-20T15:00:00", "no UTC offset"),
    ("yesterday", "not an ISO-8601"),
])
def test_a_bad_clock_is_one_line(probe_env: Path, report: str, moment: str, says: str) -> None:
    """--now is read as `warden run` reads it: an aware moment between 1970 and 2999."""
    line = warden("report", report, "--now", moment).line
    assert line.startswith("--now: ") and says in line


@pytest.mark.parametrize("report", REPORTS)
def test_an_unknown_crm_is_named(probe_env: Path, report: str) -> None:
    """A CRM nobody knows is refused, not reported on as an empty connection."""
    assert "--crm: unknown CRM 'pipedrive'" in warden("report", report, "--crm", "pipedrive").line


@pytest.mark.parametrize("report", ["sla", "leads"])
def test_a_window_reaching_before_1970_is_refused(probe_env: Path, report: str) -> None:
    """--days so large its window would start before the records could is one line, not an OverflowError."""
    line = warden("report", report, "--now", NOW, "--days", "999999999").line
    assert line.startswith("--days: ")


def test_html_into_a_file_is_refused(probe_env: Path) -> None:
    """--html names a folder; an existing file there is refused in one line."""
    (probe_env / "afile").write_text("x")
    line = warden("report", "pipeline", "--now", NOW, "--html", str(probe_env / "afile")).line
    assert line.startswith("--html: ") and "is a file" in line


@pytest.mark.parametrize("args", [("doctor",), ("policy", "init")])
def test_doctor_and_policy_init_check_the_settings(
    probe_env: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    """A malformed variable stops doctor and policy init at start too."""
    monkeypatch.setenv("SALESFORCE_API_SHARE", "5")
    assert warden(*args, "--crm", "salesforce").line.startswith("SALESFORCE_API_SHARE: ")


@pytest.mark.parametrize("args", [("doctor",), ("policy", "init")])
def test_doctor_and_policy_init_name_an_unknown_crm(probe_env: Path, args: tuple[str, ...]) -> None:
    """--crm is one of the CRMs warden knows, checked before anything is read."""
    assert "--crm: unknown CRM 'pipedrive'" in warden(*args, "--crm", "pipedrive").line


@pytest.mark.parametrize("where", ["folder", "missing/policy.yaml"])
def test_policy_init_into_a_place_it_cannot_write_is_one_line(
    probe_env: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """--out naming a folder, or a file in a folder that does not exist, is refused before the org is read."""
    (probe_env / "folder").mkdir()
    line = warden("policy", "init", "--crm", "salesforce", "--out", str(probe_env / where)).line
    assert line.startswith("--out: ") and where.split("/")[0] in line
