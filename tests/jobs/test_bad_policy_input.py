"""Bad policy files: one line naming the key and line, `policy check` exit 1, a run or the worker exit 2.

`policy check` refuses exactly what the worker would: both validate through the same schema and the
same cron code.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import Engine
from structlog.testing import capture_logs

from jobs.status import collect_status
from store.db import session_factory
from tests.jobs.probe_support import NOW, warden
from tests.jobs.worker_support import FakeClock, copy_crm, local_connector, make_worker


def policy(env: Path, text: str | bytes) -> Path:
    path = env / "policy.yaml"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def with_schedule(env: Path, expression: str) -> Path:
    path = env / "policy.yaml"
    return policy(env, path.read_text().replace('schedule: "0 6 * * *"', f'schedule: "{expression}"', 1))


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def check(path: Path) -> str:
    """`warden policy check` on a file with one problem: that problem, on one line, exit 1."""
    return warden("policy", "check", str(path), code=1).line


def test_undecodable_bytes_name_their_line(probe_env: Path) -> None:
    """A file saved as Latin-1 is refused with the line of the first byte that is not UTF-8."""
    path = policy(probe_env, "version: 1\nqueues:\n  - Équipe\n".encode("latin-1"))
    assert "line 3" in check(path) and "UTF-8" in check(path)
    assert "line 3" in warden("run", "sla", "--now", NOW).line


def test_an_impossible_date_names_its_key_and_line(probe_env: Path) -> None:
    """`extra_holidays: [2026-13-45]` is a bad date at its line, not a ValueError from the YAML parser."""
    path = policy(probe_env, "version: 1\ncalendar:\n  extra_holidays: [2026-13-45]\n")
    line = check(path)
    assert "line 3" in line and "calendar.extra_holidays.0" in line and "2026-13-45" in line


def test_deep_nesting_is_refused(probe_env: Path) -> None:
    """5,000 nested brackets are one line, not a RecursionError."""
    path = policy(probe_env, "queues: " + "[" * 5000 + "]" * 5000 + "\n")
    assert "nested" in check(path)


def test_a_field_map_holding_soql_is_refused(probe_env: Path) -> None:
    """A field map value must be an API name: text that would splice into a query is refused at its line."""
    path = policy(probe_env, "version: 1\nfields:\n  salesforce:\n    account:\n"
                             "      bant_budget: \"Id FROM Account WHERE Name != ''\"\n")
    line = check(path)
    assert "line 5" in line and "fields.salesforce.account.bant_budget" in line and "API name" in line
    hubspot = policy(probe_env, "fields:\n  hubspot:\n    opportunity:\n      budget: \"amount\\\" OR 1=1\"\n")
    assert "API name" in check(hubspot)


@pytest.mark.parametrize("expression", ["61 * * * *", "every day at six", "0 6 * * * *", "0 6 31 2 *",
                                        "0 6 30 2 *", "@daily", "*/0 * * * *"])
def test_policy_check_refuses_every_cron_the_worker_refuses(probe_env: Path, expression: str) -> None:
    """A rule's schedule the scheduler cannot use is named with its line by `policy check`, and the worker
    refuses the same file with one line instead of crashing on it."""
    path = with_schedule(probe_env, expression)
    line = check(path)
    assert f"line {line_of(path, expression)}" in line and "schedule" in line and expression in line
    worker = warden("worker", "--once").line
    assert expression in worker


@pytest.mark.parametrize(("block", "expression"), [
    ("digest:\n  fallback_recipient: ops@example.com\n  schedule: \"{e}\"\n", "0 8 31 4 *"),
    ("connections:\n  - {{name: main, crm: local, schedules: {{sla: \"{e}\"}}}}\n", "0 6 30 2 *"),
])
def test_digest_and_connection_schedules_are_checked_the_same_way(
    probe_env: Path, block: str, expression: str
) -> None:
    """A cron that never fires is refused wherever the policy holds one."""
    path = policy(probe_env, block.format(e=expression))
    assert "never" in check(path) and expression in check(path)


def test_an_empty_policy_is_refused(probe_env: Path) -> None:
    """An empty file (or only comments) is not a policy with no rules: it is a mistake."""
    for text in ("", "# nothing yet\n\n"):
        assert "empty" in check(policy(probe_env, text))


def test_duplicate_keys_are_refused_with_their_line(probe_env: Path) -> None:
    """YAML keeps the last of two equal keys silently; the policy refuses, naming the second one's line."""
    path = policy(probe_env, "version: 1\ncalendar:\n  time_zone: UTC\n  country: US\n  time_zone: Europe/Paris\n")
    line = check(path)
    assert "line 5" in line and "time_zone" in line and "line 3" in line and "duplicate" in line


def test_a_manager_that_is_not_an_email_is_refused(probe_env: Path) -> None:
    """Teams name people by email; a bare name would never match a CRM user."""
    path = policy(probe_env, "teams:\n  - name: East\n    manager: Maria Lopez\n    members: [alex@example.com]\n")
    line = check(path)
    assert "line 3" in line and "teams.0.manager" in line and "Maria Lopez" in line
    member = policy(probe_env, "teams:\n  - name: East\n    manager: m@example.com\n    members: [Alex]\n")
    assert "teams.0.members.0" in check(member)


def test_run_refuses_a_bad_policy_in_one_line(probe_env: Path) -> None:
    """A run names the policy's one problem on one line and exits 2."""
    path = with_schedule(probe_env, "0 6 31 2 *")
    line = warden("run", "sla", "--now", NOW).line
    assert str(path) in line and "never" in line


def test_a_worker_keeps_its_last_good_policy_when_the_file_turns_to_garbage(
    sqlite_engine: Engine, small_crm: Path, tmp_path: Path
) -> None:
    """Undecodable bytes written over the policy keep the worker running on the last good one, and it says why."""
    clock = FakeClock()
    path = probe_policy = tmp_path / "policy.yaml"
    path.write_bytes((Path(__file__).parents[2] / "config" / "policy.yaml").read_bytes())
    worker = make_worker(sqlite_engine, probe_policy, local_connector(copy_crm(small_crm, tmp_path), clock), clock)
    worker.tick()
    path.write_bytes(os.urandom(64) + b"\xff\xfe\x80")
    clock.advance(minutes=16)
    with capture_logs() as logs:
        assert "sla" in [o.job for o in worker.tick()]
    rejected = [e for e in logs if e["event"] == "policy.rejected"]
    assert len(rejected) == 1 and "UTF-8" in rejected[0]["reason"]
    report = collect_status(session_factory(sqlite_engine), worker.keeper.refresh(), str(path),
                            worker.keeper.error, clock())
    assert report.workers[0].policy_error is not None and "UTF-8" in report.workers[0].policy_error


def test_a_bad_absence_stops_a_run_in_one_line(probe_env: Path) -> None:
    """An out-of-office range that ends before it starts names its key and line; the run exits 2."""
    path = probe_env / "policy.yaml"
    text = path.read_text().replace("out_of_office: true", "out_of_office: [{from: 2026-12-21, to: 2026-12-01}]", 1)
    policy(probe_env, text)
    line = warden("run", "sla", "--now", NOW).line
    assert f"line {line_of(path, '2026-12-21')}" in line and "owners.0.out_of_office" in line and "before" in line
