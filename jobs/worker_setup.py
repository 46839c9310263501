"""Wire a worker from settings: the store, its locks, the policy keeper and the connectors.

Shared by ``warden worker``, ``warden status`` and the Celery app, so every entry point reads the
same settings the same way.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from config.policy import FieldMaps
from config.policy_connections import ConnectionPolicy
from config.settings import Settings
from domain.connector import Connector
from domain.progress import Progress
from jobs.connections import open_connection
from jobs.digest_job import DigestJob, settings_links
from jobs.job_runner import JobRunner
from jobs.policy_keeper import PolicyKeeper
from jobs.shutdown import ShutdownFlag
from notify.chat_delivery import ChatTransport
from notify.webhook import WebhookSender
from store.good_policies import remember_policy
from store.locks import locks_for

log = structlog.get_logger(__name__)


def chat_transport() -> ChatTransport:
    """Team chat through incoming webhooks, whose URLs are read from this process's environment."""
    return ChatTransport(WebhookSender(), os.environ)


def utc_now() -> datetime:
    return datetime.now(UTC)


def policy_keeper(settings: Settings, policy: Path | None = None,
                  sessions: sessionmaker[Session] | None = None) -> PolicyKeeper:
    """The keeper of the policy file; with ``sessions``, each policy that loads is kept in the ledger for status."""
    path = policy or settings.policy_path()
    if sessions is None:
        return PolicyKeeper(path, settings.crm)

    def remember(text: str) -> None:
        try:
            remember_policy(sessions, str(path), text, utc_now())
        except SQLAlchemyError as exc:  # like a heartbeat: status shows less, the jobs still run
            log.warning("policy.not_remembered", path=str(path), error=str(exc))

    return PolicyKeeper(path, settings.crm, remember)


def build_runner(
    settings: Settings,
    engine: Engine,
    sessions: sessionmaker[Session],
    *,
    apply: bool,
    shutdown: ShutdownFlag,
    connector_for: Callable[[ConnectionPolicy, FieldMaps], Connector] | None = None,
    progress: Progress,
) -> JobRunner:
    """A job runner on the store's locks; connectors come from settings unless given, digests go through SMTP_*.

    ``progress`` shows how far its runs have come (``jobs.progress``).
    """
    def from_settings(connection: ConnectionPolicy, fields: FieldMaps) -> Connector:
        return open_connection(settings, connection, fields)

    digests = DigestJob(sessions, settings.smtp, settings_links(settings), chat_transport())
    return JobRunner(sessions, locks_for(engine), connector_for or from_settings, apply, shutdown, digests=digests,
                     progress=progress)
