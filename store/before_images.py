"""What a field write is about to change, saved in the transaction that takes its claim.

``warden revert`` puts these values back (``jobs.apply.revert``). They come from the mirror, which
the run synced just before it planned: the values the rules judged. Saved with the claim, they
survive whatever happens to the process after it (``kill -9`` included), before any CRM call.
A claim taken again for the same run's action (a settle, a retry) keeps the first image.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from domain.plan import ActionKind
from domain.record_values import field_values
from domain.records import ObjectType
from store.mirror import MirrorOrg
from store.models import ActionRow, RunRow, SnapshotRow

FIELD_WRITES = (ActionKind.REASSIGN.value, ActionKind.UPDATE.value, ActionKind.CLOSE.value)


def save_before_images(session: Session, action_ids: Sequence[int], now: datetime) -> None:
    """For each field-writing action among ``action_ids``, the mirror's values of the fields its payload sets.

    A field the mirror does not hold (a custom field no sync reads) is left out: revert leaves it alone.
    """
    stmt = (select(ActionRow.run_id, ActionRow.key, ActionRow.object, ActionRow.record_id, ActionRow.payload,
                   RunRow.connection)
            .join(RunRow, RunRow.id == ActionRow.run_id)
            .where(ActionRow.id.in_(list(action_ids)), ActionRow.kind.in_(FIELD_WRITES)))
    wanted = list(session.execute(stmt))
    if not wanted:
        return
    images = select(SnapshotRow.run_id, SnapshotRow.action_key).where(
        SnapshotRow.action_key.in_([w.key for w in wanted]))
    saved = {(run_id, key) for run_id, key in session.execute(images)}
    rows: list[dict[str, Any]] = []
    for connection, obj in {(w.connection, w.object) for w in wanted}:
        mine = [w for w in wanted if (w.connection, w.object) == (connection, obj) and (w.run_id, w.key) not in saved]
        org = MirrorOrg(session, connection)
        held = {r.id: field_values(r) for r in org.records_by_id(ObjectType(obj), {w.record_id for w in mine})}
        rows.extend({"run_id": w.run_id, "action_key": w.key, "object": obj, "record_id": w.record_id,
                     "data": {k: held[w.record_id][k] for k in w.payload if k in held[w.record_id]},
                     "children": {}, "created_at": now}
                    for w in mine if w.record_id in held)
    if rows:
        session.execute(insert(SnapshotRow), rows)
