"""`warden run activity --apply` killed (SIGKILL) right after the CRM created a lead, before the ledger knew:
the next run settles it from the CRM, and the person still has exactly one lead."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from config.settings import PACKAGED_POLICY
from connectors.local import LocalCRM
from demo.activity import NEW_PERSON
from demo.org import seed_demo
from domain.records import Lead, ObjectType
from store.db import make_engine, session_factory
from store.models import ActionRow
from tests.enforcement.families import NOW
from tests.jobs import fault_driver
from tests.jobs.fault_driver import Fault

RUN = ("run", "activity", "--apply", "--now", NOW.isoformat())


def test_a_run_killed_after_the_lead_was_created_leaves_one_lead(tmp_path: Path) -> None:
    """The kill comes after the create call returned; the re-run finds the lead by its email instead of a second."""
    crm = LocalCRM(tmp_path / "crm.db", clock=lambda: NOW)
    seed_demo(crm, NOW)
    crm.close()
    url = f"sqlite:///{tmp_path / 'warden.db'}"
    env = {"WARDEN_DATABASE_URL": url, "WARDEN_LOCAL_CRM_URL": f"sqlite:///{tmp_path / 'crm.db'}",
           "WARDEN_POLICY": str(PACKAGED_POLICY), "WARDEN_CRM": "local", "COLUMNS": "200"}
    killed = fault_driver.run(RUN, env, tmp_path / "report.json", Fault(1, "kill"))
    assert killed.exit_code == -9, killed.output
    for _ in range(2):
        again = fault_driver.run(RUN, env, tmp_path / "report.json")
        assert again.exit_code == 0, again.output
    leads = [r for r in LocalCRM(tmp_path / "crm.db").iter_changed(ObjectType.LEAD, None)
             if isinstance(r, Lead) and r.email == NEW_PERSON[1]]
    assert len(leads) == 1
    engine = make_engine(url)
    with session_factory(engine)() as session:
        creates = session.execute(select(ActionRow.status, ActionRow.result_id)
                                  .where(ActionRow.kind == "create_lead", ActionRow.opened.is_(None))).all()
    engine.dispose()
    assert creates == [("applied", leads[0].id)]  # the dead run's create, settled; no later run plans one
