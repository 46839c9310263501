"""What a killed run left half done is recognised from the re-synced mirror, merges included."""

from __future__ import annotations

from sqlalchemy import Engine

from domain.plan import Action, ActionKind, ActionStatus
from domain.records import Account, ObjectType
from store import mirror
from store.db import session_factory
from store.ledger import Ledger
from store.recovery import settle_shown_writes
from tests.store.fake_reader import T0, FakeReader


def _merge(master: str, losers: list[str]) -> Action:
    return Action(ActionKind.MERGE, ObjectType.ACCOUNT, master, f"merge:local:{master}:{','.join(losers)}",
                  "same name + evidence", "new-duplicates", {"cluster_id": "c0001", "loser_ids": losers, "fields": {}})


def test_a_merge_the_crm_made_before_the_worker_died_is_marked_applied(engine: Engine) -> None:
    """Master present and losers gone: applied (so undo finds it); a loser still there: left planned."""
    reader = FakeReader()
    reader.put(*(Account(i, f"Acme {i}", "005A", T0, T0) for i in ("m1", "m2", "l3")))
    mirror.sync(reader, engine, "local")
    sessions = session_factory(engine)
    ledger = Ledger(sessions)
    run_id = ledger.start_run("dedupe", "local", dry_run=False, now=T0)
    done, pending = ledger.record_actions(run_id, [_merge("m1", ["l1", "l2"]), _merge("m2", ["l3"])])

    assert settle_shown_writes(sessions, "local", [run_id]) == 1
    statuses = ledger.action_statuses([done, pending])
    assert statuses[done][0] == ActionStatus.APPLIED.value
    assert statuses[pending][0] == ActionStatus.PLANNED.value
