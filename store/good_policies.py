"""The last policy text each policy file loaded with, so ``warden status`` can show it while the file is broken."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from store.worker_models import GoodPolicyRow


@dataclass(frozen=True)
class GoodPolicy:
    source: str
    text: str
    loaded_at: datetime


def remember_policy(sessions: sessionmaker[Session], source: str, text: str, loaded_at: datetime) -> None:
    """Keep ``text`` as the last good policy of ``source``, replacing the one before."""
    with sessions.begin() as session:
        session.merge(GoodPolicyRow(source=source, text=text, loaded_at=loaded_at))


def last_good_policy(sessions: sessionmaker[Session], source: str) -> GoodPolicy | None:
    """The text ``source`` last loaded with, if a worker ever loaded it."""
    with sessions() as session:
        row = session.get(GoodPolicyRow, source)
        return GoodPolicy(row.source, row.text, row.loaded_at) if row else None
