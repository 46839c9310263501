from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select

from config.policy import DigestPolicy
from config.policy_file import PolicyError, parse_policy
from config.settings import SmtpSettings
from domain.connector import NoLinks
from jobs.digest_job import DigestJob
from jobs.job_runner import JobOutcome
from jobs.job_table import job_table
from jobs.status import collect_status
from jobs.worker import Worker
from store.db import make_engine, migrate, session_factory
from store.models import RunRow
from tests.jobs.worker_support import FakeClock, copy_crm, copy_policy, local_connector, make_worker, seed_small_crm
from tests.notify.conftest import RecordingHandler, free_port

DIGEST_ONLY = {"sla", "stale", "cadence", "overdue", "gates", "dedupe"}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_small_crm(tmp_path_factory.mktemp("seeded") / "crm.db")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'warden.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def mailbox() -> Iterator[tuple[RecordingHandler, int]]:
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


def sending_worker(engine: Engine, seeded: Path, folder: Path, clock: FakeClock, port: int) -> Worker:
    """An applying worker on the packaged policy whose digest job mails through the test server."""
    worker = make_worker(engine, copy_policy(folder), local_connector(copy_crm(seeded, folder), clock), clock,
                         apply=True)
    smtp = SmtpSettings.model_validate({"host": "127.0.0.1", "port": port, "sender": "warden@example.com"})
    worker.runner.digests = DigestJob(worker.runner.sessions, smtp, lambda _connection: NoLinks())
    return worker


def digest_outcome(outcomes: list[JobOutcome]) -> str | None:
    return next((o.status for o in outcomes if o.job == "digest"), None)


def team_digests(handler: RecordingHandler) -> list[tuple[str, str]]:
    return [(rcpts[0], str(m["Subject"]).rsplit(", ", 1)[1]) for rcpts, m in handler.messages
            if "on your team" in str(m["Subject"])]


def test_each_manager_gets_the_weekly_digest_at_their_own_send_hour_once(
    store: Engine, seeded: Path, tmp_path: Path, mailbox: tuple[RecordingHandler, int]
) -> None:
    """Monday 08:00 in London, then New York, then Los Angeles: each manager's new week goes out once."""
    handler, port = mailbox
    clock = FakeClock()
    worker = sending_worker(store, seeded, tmp_path, clock, port)
    assert digest_outcome(worker.tick()) == "finished"
    managers = {to for to, _ in team_digests(handler)}
    assert {"maria.lopez@example.com", "kenji.sato@example.com", "priya.natarajan@example.com"} <= managers
    clock.advance(hours=1)
    assert digest_outcome(worker.tick()) == "finished"
    assert len(team_digests(handler)) == len(managers), "the same period is never sent twice"
    sent_before = len(team_digests(handler))
    week_48 = []
    for utc_hour, manager in ((8, "priya.natarajan"), (13, "maria.lopez"), (16, "kenji.sato")):
        clock.now = datetime(2026, 11, 23, utc_hour, 5, tzinfo=UTC)
        worker.tick()
        week_48.append(team_digests(handler)[sent_before:])
        sent_before = len(team_digests(handler))
        assert week_48[-1] == [(f"{manager}@example.com", "week of 23 Nov")]


def test_a_dry_run_renders_the_digests_and_sends_nothing(
    store: Engine, seeded: Path, tmp_path: Path, mailbox: tuple[RecordingHandler, int]
) -> None:
    """Without --apply the job records a dry run of what it would send; the next is due at the top of the hour."""
    handler, port = mailbox
    clock = FakeClock()
    worker = sending_worker(store, seeded, tmp_path, clock, port)
    worker.runner.apply = False
    assert digest_outcome(worker.tick()) == "finished"
    assert handler.messages == []
    with session_factory(store)() as session:
        run = session.scalars(select(RunRow).where(RunRow.job == "digest")).one()
    assert run.dry_run and run.summary["digests"]["planned"] >= 4
    clock.advance(minutes=30)
    assert digest_outcome(worker.tick()) is None
    clock.advance(minutes=30)
    assert digest_outcome(worker.tick()) == "finished"


def test_undelivered_digests_show_as_pending_and_go_out_at_the_next_run(
    store: Engine, seeded: Path, tmp_path: Path, mailbox: tuple[RecordingHandler, int]
) -> None:
    """The mail server refusing everything fails the job; status counts the digests waiting; the retry sends them."""
    handler, port = mailbox
    handler.fail = lambda _n, _envelope: "451 try again later"
    clock = FakeClock()
    worker = sending_worker(store, seeded, tmp_path, clock, port)
    assert digest_outcome(worker.tick()) == "failed"
    sessions = session_factory(store)
    report = collect_status(sessions, worker.keeper.refresh(), "policy.yaml", None, clock())
    digest = next(j for j in report.jobs if j.job == "digest")
    assert digest.outcome == "failed" and "451" in (digest.error or "")
    assert digest.next_run_at == datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    waiting = report.connections[0].pending_digests
    assert waiting >= 4
    handler.fail = lambda _n, _envelope: None
    clock.advance(hours=1)
    assert digest_outcome(worker.tick()) == "finished"
    assert len(handler.messages) == waiting
    report = collect_status(sessions, worker.keeper.refresh(), "policy.yaml", None, clock())
    assert report.connections[0].pending_digests == 0


def policy_with_digest(tmp_path: Path, **digest: object) -> str:
    policy = yaml.safe_load(copy_policy(tmp_path).read_text())
    policy["digest"] = {"fallback_recipient": "ops@example.com", **digest}
    return yaml.safe_dump(policy)


@pytest.mark.parametrize(("digest", "first_fire"), [
    ({"period": "weekly"}, datetime(2026, 11, 22, 5, 0, tzinfo=UTC)),  # Sunday 00:00 in New York
    ({"period": "weekly", "morning_list": ["alex.carter@example.com"]}, datetime(2026, 11, 20, 16, 0, tzinfo=UTC)),
    ({"period": "daily"}, datetime(2026, 11, 20, 16, 0, tzinfo=UTC)),
    ({"period": "daily", "schedule": "30 7 * * mon-fri"}, datetime(2026, 11, 23, 12, 30, tzinfo=UTC)),
])
def test_the_digest_job_fires_when_a_period_can_start_somewhere(
    tmp_path: Path, digest: dict[str, object], first_fire: datetime
) -> None:
    """Weekly digests need runs only around Monday in any zone; daily ones and morning lists every hour."""
    policy = parse_policy(policy_with_digest(tmp_path, **digest), "policy.yaml")
    (job,) = [j for j in job_table(policy, "local") if j.job == "digest"]
    assert job.schedule.next_after(FakeClock().now) == first_fire


def test_a_digest_schedule_that_is_not_cron_is_refused(tmp_path: Path) -> None:
    """A typo in digest.schedule stops the policy from loading, naming the field."""
    with pytest.raises(PolicyError, match=r"digest\.schedule"):
        parse_policy(policy_with_digest(tmp_path, schedule="every monday"), "policy.yaml")
    assert DigestPolicy(fallback_recipient="ops@example.com").schedule is None
