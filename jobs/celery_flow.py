"""How Celery splits a connection's due jobs so that many workers share them.

A flow syncs each object type of the connection as its own task, all side by side, then, once
every sync is done, runs the jobs side by side (a chord). A sync task holds the lock of its
connection and object, a job the lock of its connection and job: the locks ``warden worker`` takes.
Every task of a flow carries the minute the flow was sent: a sync that started since then (of this
flow, or of another flow of the connection fired in the same minute) covers it, so a job reads the
mirror without syncing again, and a second flow's sync tasks find nothing to do (``store.sync_marks``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from celery import Celery, chord, group

from domain.records import ObjectType
from notify.digest import JOB as DIGEST_JOB

RUN_JOB = "warden.run_job"
RUN_SYNCED_JOB = "warden.run_job_after_sync"
SYNC_OBJECT = "warden.sync_object"
RUN_FLOW = "warden.run_flow"


def connection_flow(app: Celery, connection: str, jobs: Sequence[str], sent_at: datetime, **options: Any) -> Any:
    """The canvas that syncs ``connection`` object by object, then runs ``jobs``; ``options`` go to every task.

    ``sent_at``: when the flow was sent (beat fires by the minute). The digest reads only the ledger,
    so a flow of nothing but the digest skips the sync.
    """
    if all(job == DIGEST_JOB for job in jobs):
        return group(app.signature(RUN_JOB, args=(connection, job), immutable=True, **options) for job in jobs)
    fresh_since = sent_at.replace(second=0, microsecond=0).isoformat()
    syncs = [app.signature(SYNC_OBJECT, args=(connection, obj.value, fresh_since), immutable=True, **options)
             for obj in ObjectType]
    return chord(syncs, group(app.signature(RUN_SYNCED_JOB, args=(connection, job, fresh_since), **options)
                              for job in jobs))
