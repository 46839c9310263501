from pathlib import Path

import pytest

from config.policy import SlaRule
from config.policy_file import PolicyError, load_policy, parse_policy
from config.settings import PACKAGED_POLICY

GOOD = """\
version: 1
queues: [Marketing Queue]
rules:
  - id: sla-a
    kind: sla
    object: lead
    within: {business_hours: 2}
    reassign_to: {kind: queue, queue: Marketing Queue}
    task: {subject: Call}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "p.yaml")
    return [str(p) for p in caught.value.problems]


def test_packaged_policy_is_valid_and_encodes_the_seed_rules() -> None:
    """The shipped policy loads and carries the 4-business-day and 2-hour SLAs from the seeds."""
    policy = load_policy(PACKAGED_POLICY)
    windows = {r.id: r.within.describe() for r in policy.rules if isinstance(r, SlaRule)}
    assert windows["sla-new-opportunity"] == "4 business days"
    assert windows["sla-first-contact"] == "2 business hours"


def test_unknown_key_is_named_with_its_line() -> None:
    """A typo in a rule block is reported with the key path and the line it is on."""
    found = problems(GOOD.replace("    within:", "    withn:"))
    assert any("line 7: rules.0.sla.withn" in p and "Extra inputs" in p for p in found)
    assert any("rules.0.sla.within" in p and "Field required" in p for p in found)


def test_every_problem_is_reported_at_once() -> None:
    """Two independent mistakes both show up in one check."""
    text = GOOD.replace("business_hours: 2", "business_hours: -1").replace("object: lead", "object: deal")
    found = problems(text)
    assert any(p.startswith("line 6:") and "object" in p for p in found)
    assert any(p.startswith("line 7:") and "business_hours" in p for p in found)


def test_reference_to_missing_queue_is_an_error() -> None:
    """A rule that sends work to a queue the policy does not declare is refused."""
    found = problems(GOOD.replace("queues: [Marketing Queue]", "queues: []"))
    assert any("queue 'Marketing Queue', not in queues" in p for p in found)


def test_bad_time_zone_and_yaml_syntax() -> None:
    """An unknown IANA zone names the zone; broken YAML names its line."""
    assert any("Mars/Olympus" in p for p in problems("calendar: {time_zone: Mars/Olympus}\n"))
    broken = problems("version: 1\nqueues: [a, b\nrules: []\n")
    assert any(p.startswith("line 3:") and "flow sequence" in p for p in broken)


def test_missing_file_is_a_policy_error(tmp_path: Path) -> None:
    """A path that does not exist is a clear error, not a traceback."""
    with pytest.raises(PolicyError, match="cannot read the file"):
        load_policy(tmp_path / "nope.yaml")


def test_clock_times_are_times_not_base_60_numbers() -> None:
    """`start: 9:00` means nine o'clock (YAML 1.1 alone would read the number 540, i.e. 00:09)."""
    policy = parse_policy("calendar: {business_hours: {start: 9:00, end: 17:30}}\n")
    assert (policy.calendar.business_hours.start.hour, policy.calendar.business_hours.end.minute) == (9, 30)


def test_an_explicit_tag_its_constructor_refuses_names_its_line() -> None:
    """`!!timestamp 2026-13-45` is refused at its line, like the untagged date."""
    assert any(p.startswith("line 3:") and "2026-13-45" in p
               for p in problems("version: 1\ncalendar:\n  extra_holidays: [!!timestamp 2026-13-45]\n"))


@pytest.mark.parametrize(("fragment", "key"), [
    ("within: {business_hours: 2}", "within.business_hours: .inf"),
    ("within: {business_hours: 2}", "within.days: 99999999"),
    ("within: {business_hours: 2}", "within.business_days: 100000000"),
])
def test_spans_no_calendar_can_count_are_refused(fragment: str, key: str) -> None:
    """An SLA of infinite or hundred-thousand-year length is a typo, refused before a rule overflows on it."""
    name, value = key.split(": ")
    text = GOOD.replace(fragment, f"within: {{{name.split('.')[1]}: {value}}}")
    assert any(p.startswith("line 7:") and name in p for p in problems(text))


def test_an_infinite_round_robin_weight_is_refused() -> None:
    """A weight must be a finite share."""
    assert any("owners.0.weight" in p and "finite" in p for p in problems("owners: [{email: a@b.co, weight: .inf}]\n"))


def test_a_huge_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    """A policy is a few kilobytes; a gigabyte of YAML (or /dev/zero) is refused at once."""
    huge = tmp_path / "huge.yaml"
    huge.write_text("queues:\n" + "  - q\n" * 200_000)
    with pytest.raises(PolicyError, match="larger than 1,000,000 bytes"):
        load_policy(huge)


def test_dated_out_of_office_is_read_and_checked() -> None:
    """Absences take dates; one that ends before it starts, or an impossible date, names its key and line."""
    text = "owners:\n  - email: a@b.co\n    out_of_office: [{from: 2026-12-21, to: 2027-01-04}]\n"
    [owner] = parse_policy(text).owners
    assert not isinstance(owner.out_of_office, bool) and owner.out_of_office[0].end.year == 2027
    backwards = problems(text.replace("2027-01-04", "2026-12-01"))
    assert any("line 3" in p and "owners.0.out_of_office" in p and "before" in p for p in backwards)
    impossible = problems(text.replace("2027-01-04", "2027-13-45"))
    assert any("line 3" in p and "owners.0.out_of_office" in p and "2027-13-45" in p for p in impossible)
