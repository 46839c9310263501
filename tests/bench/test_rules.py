import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench import rules
from store.db import make_engine
from store.models import ActionRow, ClaimRow, FindingRow, RunRow


def test_benchmark_prints_every_rule_memory_and_the_labelled_naive_estimate(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A tiny org runs every rule family, reports throughput and peak memory, and the naive extrapolation."""
    url = f"sqlite:///{tmp_path / 'org.db'}"
    assert rules.main(["--scale", "0.0005", "--naive-sample", "1", "--database-url", url]) == 0
    out = capsys.readouterr().out
    for rule_id in ("sla-new-opportunity", "stale-deals", "stale-leads", "customer-calls", "overdue-tasks",
                    "opportunity-gates", "lead-gates"):
        assert rule_id in out
    assert "records/s" in out and "peak memory of the evaluating process" in out
    assert "EXTRAPOLATED from 1 measured re-scans" in out
    assert "at full size (linear from scale 0.0005): goal < 60 s" in out  # the goals are set for the full org
    assert re.search(r"all rules .*garbage collector \d+\.\d\d s: \d+ full", out)  # the collector's share, shown
    recorded = re.search(r"recording it in the ledger as a dry run, after the full pass's .*: its ([\d,]+) findings "
                         r"\d+\.\d\d s, its [\d,]+ skips and ([\d,]+) actions \d+\.\d\d s, ([\d,]+) rows added "
                         r"\(the full pass's, all new: \d+\.\d\d s and \d+\.\d\d s, ([\d,]+) rows\)", out)
    assert recorded and int(recorded[1].replace(",", "")) > 0  # what the scheduled run leaves out, measured beside
    carried, added, first = (int(recorded[n].replace(",", "")) for n in (1, 3, 4))
    assert added < carried < first  # the scheduled run writes what changed, not all it carries
    assert re.search(r"recording only the records judged differently: \d+\.\d\d s; the same plan recorded again "
                     r"comparing all it carries .*: \d+\.\d\d s, \d+\.\dx", out)  # beside the way before, same run
    whole = re.search(r"the scheduled run as a dry run makes it, after its sync: rules (\d+\.\d\d) s \+ recording "
                      r"(\d+\.\d\d) s \+ looking up the claims of its ([\d,]+) keys among the ledger's [\d,]+ "
                      r"and telling each action's outcome (\d+\.\d\d) s = "
                      r"(\d+\.\d\d) s: .*goal < 5 s", out)
    assert whole and int(whole[3].replace(",", "")) > 0
    assert abs(float(whole[1]) + float(whole[2]) + float(whole[4]) - float(whole[5])) <= 0.02
    applying = re.search(r"the same run applying, after a run applied all the full pass planned: its ledger's share "
                         r"\(claims looked up, findings, skips and plan recorded, ([\d,]+) actions of its own claimed "
                         r"and read back\) (\d+\.\d\d) s; rules \+ ledger = \d+\.\d\d s: .*goal < 5 s", out)
    before = re.search(r"its actions as an applying run recorded them before \(each of the ([\d,]+) a row of its own, "
                       r"claimed, the applied ones refused\): \d+\.\d\d s for the actions alone, \d+\.\dx", out)
    assert applying and before
    assert re.search(r"the run before it, the first after the worker started, looked up all its keys' claims: "
                     r"\d+\.\d\d s", out)  # what a long-lived worker no longer pays every run, shown beside it
    own, every = (int(found[1].replace(",", "")) for found in (applying, before))
    worker = re.search(r"the scheduled run as the worker makes it, end to end \(jobs.pipeline.run_job, a dry run of "
                       r"([\d,]+) actions and ([\d,]+) findings, after another 1% changed and was synced, the worker "
                       r"having settled while idle in \d+\.\d\d s, its first run since it started \d+\.\d\d s after "
                       r"the same share changed\), the median of 3 such runs one after another: rules with the "
                       r"ledger's history (\d+\.\d\d) s \+ recording (\d+\.\d\d) s \+ claims, outcomes counted, "
                       r"limits and summary (\d+\.\d\d) s = (\d+\.\d\d) s: .*goal < 5 s.* \(garbage collector "
                       r"\d+\.\d\d s: \d+ full.*\); each run: (\d+\.\d\d), (\d+\.\d\d), (\d+\.\d\d) s", out)
    assert worker and int(worker[1].replace(",", "")) > 0 and int(worker[2].replace(",", "")) > 0
    assert abs(sum(float(worker[n]) for n in (3, 4, 5)) - float(worker[6])) <= 0.02
    assert sorted(float(worker[n]) for n in (7, 8, 9))[1] == float(worker[6])  # the median run is the one shown
    assert 0 <= own < every  # the actions a run applied are not recorded again, measured beside the way before
    engine = make_engine(url)
    with engine.connect() as connection:  # a kept org does not grow by a run's ledger on every rerun
        assert [connection.scalar(select(func.count()).select_from(row))
                for row in (RunRow, FindingRow, ActionRow, ClaimRow)] == [0, 0, 0, 0]
    engine.dispose()
