from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery
from structlog.testing import capture_logs

from jobs.beat import PolicyScheduler
from tests.jobs.worker_support import copy_policy


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    return copy_policy(tmp_path)


@pytest.fixture
def scheduler(policy: Path, tmp_path: Path) -> Iterator[PolicyScheduler]:
    """Beat's scheduler as ``celery beat`` builds it, on a copy of the packaged policy; nothing is sent."""
    app = Celery("beat-test", broker="memory://", set_as_current=False)
    app.conf.warden_policy, app.conf.warden_crm = str(policy), "local"
    app.conf.timezone = "America/New_York"
    beat = PolicyScheduler(app=app, schedule_filename=str(tmp_path / "beat-schedule"))
    yield beat
    beat.close()


def fired(beat: PolicyScheduler) -> dict[str, tuple[str, ...]]:
    """Cron expression -> the jobs its beat entry sends for the ``local`` connection."""
    return {name.removeprefix("local: "): tuple(entry.args[1]) for name, entry in beat.schedule.items()
            if name.startswith("local: ")}


def test_jobs_that_fire_together_share_one_beat_entry(scheduler: PolicyScheduler) -> None:
    """The hourly sla and activity rules and the hourly digest go out as one flow, so the connection is synced once."""
    entries = fired(scheduler)
    scheduled = {job.job for job in scheduler.keeper.refresh().jobs}
    assert {job for jobs in entries.values() for job in jobs} == scheduled
    assert set(entries["0 * * * *"]) == {"sla", "activity", "digest"}
    assert entries["*/15 * * * *"] == ("sla", "route", "accept")
    assert entries["30 * * * *"] == ("gates",)
    cadence = scheduler.schedule["local: 0 7 * * mon"].schedule
    assert cadence.day_of_week == {1} and cadence.hour == {7} and cadence.minute == {0}


def test_a_schedule_edit_reaches_beat_without_a_restart(scheduler: PolicyScheduler, policy: Path) -> None:
    """Moving the gates rules to every five minutes changes beat's entries at its next policy check."""
    policy.write_text(policy.read_text().replace('schedule: "30 * * * *"', 'schedule: "*/5 * * * *"'))
    assert scheduler.follow_policy()
    entries = fired(scheduler)
    assert entries["*/5 * * * *"] == ("gates",) and "30 * * * *" not in entries
    assert set(scheduler.schedule["local: */5 * * * *"].schedule.minute) == set(range(0, 60, 5))


def test_a_rule_removed_from_the_policy_leaves_the_beat_schedule(scheduler: PolicyScheduler, policy: Path) -> None:
    """Disabling the only cadence rule drops its entry; the other jobs keep theirs."""
    policy.write_text(policy.read_text().replace("    kind: cadence\n", "    kind: cadence\n    enabled: false\n"))
    scheduler.follow_policy()
    assert "0 7 * * mon" not in fired(scheduler)
    assert fired(scheduler)["*/15 * * * *"] == ("sla", "route", "accept")


def test_an_edit_that_does_not_validate_keeps_the_last_good_schedule(
    scheduler: PolicyScheduler, policy: Path
) -> None:
    """A broken cron expression is refused with its reason in the log; beat keeps sending the old schedule."""
    before = {name: entry.schedule for name, entry in scheduler.schedule.items()}
    policy.write_text(policy.read_text().replace('schedule: "0 6 * * *"', 'schedule: "at six"'))
    with capture_logs() as logs:
        assert not scheduler.follow_policy()
    assert any(e["event"] == "policy.rejected" and "at six" in e["reason"] for e in logs)
    assert {name: entry.schedule for name, entry in scheduler.schedule.items()} == before


def test_beat_checks_the_policy_at_least_every_check_interval(scheduler: PolicyScheduler, policy: Path) -> None:
    """However far the next fire is, beat wakes within the check interval, and a due check reloads the policy."""
    scheduler.policy_check_seconds = 0.0
    policy.write_text(policy.read_text().replace('schedule: "30 * * * *"', 'schedule: "*/5 * * * *"'))
    assert scheduler.tick() == 0.0
    assert fired(scheduler)["*/5 * * * *"] == ("gates",)
