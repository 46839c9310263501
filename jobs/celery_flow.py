"""How Celery splits a connection's due jobs so that many workers share them.

A flow syncs each object type of the connection as its own task, all side by side, then, once
every sync is done, runs the jobs side by side (a chord). A sync task holds the lock of its
connection and object, a job the lock of its connection and job: the locks ``warden worker`` takes.
Each job receives the syncs' outcomes and, when all finished, reads the mirror they brought up to
date without syncing again: one sync per flow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from celery import Celery, chord, group

from domain.records import ObjectType
from notify.digest import JOB as DIGEST_JOB

RUN_JOB = "warden.run_job"
RUN_SYNCED_JOB = "warden.run_job_after_sync"
SYNC_OBJECT = "warden.sync_object"
RUN_FLOW = "warden.run_flow"


def connection_flow(app: Celery, connection: str, jobs: Sequence[str], **options: Any) -> Any:
    """The canvas that syncs ``connection`` object by object, then runs ``jobs``; ``options`` go to every task.

    The digest reads only the ledger, so a flow of nothing but the digest skips the sync.
    """
    if all(job == DIGEST_JOB for job in jobs):
        return group(app.signature(RUN_JOB, args=(connection, job), immutable=True, **options) for job in jobs)
    syncs = [app.signature(SYNC_OBJECT, args=(connection, obj.value), immutable=True, **options) for obj in ObjectType]
    return chord(syncs, group(app.signature(RUN_SYNCED_JOB, args=(connection, job), **options) for job in jobs))
