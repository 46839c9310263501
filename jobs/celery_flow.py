"""How Celery splits a connection's due jobs so that many workers share them.

A flow syncs each object type of the connection as its own task, all side by side, then, once
every sync is done, runs the jobs side by side (a chord). A sync task holds the lock of its
connection and object, a job the lock of its connection and job: the locks ``warden worker`` takes.
A job still syncs first, but then reads only what changed while the flow ran.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from celery import Celery, chord, group

from domain.records import ObjectType
from notify.digest import JOB as DIGEST_JOB

RUN_JOB = "warden.run_job"
SYNC_OBJECT = "warden.sync_object"
RUN_FLOW = "warden.run_flow"


def connection_flow(app: Celery, connection: str, jobs: Sequence[str], **options: Any) -> Any:
    """The canvas that syncs ``connection`` object by object, then runs ``jobs``; ``options`` go to every task.

    The digest reads only the ledger, so a flow of nothing but the digest skips the sync.
    """
    run = group(app.signature(RUN_JOB, args=(connection, job), immutable=True, **options) for job in jobs)
    if all(job == DIGEST_JOB for job in jobs):
        return run
    syncs = [app.signature(SYNC_OBJECT, args=(connection, obj.value), immutable=True, **options) for obj in ObjectType]
    return chord(syncs, run)
