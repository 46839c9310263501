"""The fault suite: an apply of every rule family killed or cut off from its ledger at each step, then run again.

Each case runs ``warden run all --apply`` in a child process (``tests.jobs.fault_driver``) that
SIGKILLs itself, or whose ledger stops accepting writes, right after its Nth CRM call; the calls
are those of an uninterrupted apply of the same plan, taken at every 5% (each CRM call is a batch
boundary: the ledger records a call's answers before the next call). After the re-run the CRM must
be exactly the CRM of an uninterrupted apply (and its re-run), every key applied once, no run left
running and no action left planned.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.jobs.fault_driver import Fault
from tests.jobs.fault_support import (
    PERCENTS,
    RUN_ALL,
    Reference,
    Setup,
    assert_like_an_uninterrupted_apply,
    reference,
    seeded,
    setup,
)

__all__ = ["reference", "seeded", "setup"]


@pytest.mark.slow
@pytest.mark.parametrize("percent", PERCENTS)
def test_killed_at_any_point_of_the_apply_then_run_again(
    percent: int, reference: Reference, setup: Setup, engine: Engine
) -> None:
    """SIGKILL right after a CRM call, before the ledger records it; the next run settles it from the CRM."""
    killed = setup.warden(*RUN_ALL, fault=Fault(reference.step_at(percent), "kill"))
    assert killed.exit_code == -9, killed.output
    again = setup.warden(*RUN_ALL)
    assert again.exit_code == 0, again.output
    assert_like_an_uninterrupted_apply(engine, setup, reference)


@pytest.mark.slow
@pytest.mark.parametrize("percent", PERCENTS)
def test_ledger_full_after_a_crm_call_then_run_again(
    percent: int, reference: Reference, setup: Setup, engine: Engine
) -> None:
    """The ledger refuses every write after a CRM call: the run stops there, and the next one settles it."""
    failed = setup.warden(*RUN_ALL, fault=Fault(reference.step_at(percent), "ledger_full"))
    assert failed.exit_code != 0, failed.output
    assert failed.calls == failed.calls_at_first_ledger_failure, "a CRM call went out after a ledger write failed"
    again = setup.warden(*RUN_ALL)
    assert again.exit_code == 0, again.output
    assert_like_an_uninterrupted_apply(engine, setup, reference)


@pytest.mark.parametrize("percent", (50, 100))
def test_a_ledger_hiccup_after_a_crm_call_is_retried_in_the_same_run(
    percent: int, reference: Reference, setup: Setup, engine: Engine
) -> None:
    """A write the ledger refuses twice, then accepts, is retried before anything else: the run finishes alone."""
    hiccup = setup.warden(*RUN_ALL, fault=Fault(reference.call_at(percent), "ledger_hiccup"))
    assert hiccup.exit_code == 0, hiccup.output
    assert setup.warden(*RUN_ALL).exit_code == 0
    assert_like_an_uninterrupted_apply(engine, setup, reference)
