from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from connectors.hubspot._mapping import StageCatalog, epoch_ms, format_date, parse_datetime
from tests.servers.hubspot.seed import STAGES

moments = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


@given(st.dates(min_value=date(1971, 1, 1), max_value=date(2100, 1, 1)))
def test_a_written_date_reads_back_as_the_same_day_at_midnight_utc(day: date) -> None:
    """Dates written to HubSpot's datetime properties read back as that day, midnight UTC."""
    assert parse_datetime(format_date(day)) == datetime(day.year, day.month, day.day, tzinfo=UTC)


@given(moments)
def test_epoch_milliseconds_and_iso_text_read_as_the_same_moment(moment: datetime) -> None:
    """HubSpot's two datetime spellings (epoch ms, ISO with Z) parse to the same aware UTC moment."""
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    as_ms = str(epoch_ms(moment))
    as_iso = moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    assert parse_datetime(as_ms) == parse_datetime(as_iso)
    parsed = parse_datetime(as_iso)
    assert parsed is not None and abs(parsed - moment) < timedelta(milliseconds=1)
    assert parsed.utcoffset() == timedelta(0)


@given(st.sampled_from([label for _, label, _, _ in STAGES]), st.sampled_from([str.lower, str.upper, str]))
def test_stage_labels_map_to_their_ids_whatever_the_case(label: str, case: object) -> None:
    """A stage named by its label in any case maps to the pipeline's stage id; ids pass through."""
    catalog = StageCatalog.from_pipelines({"results": [{"id": "default", "stages": [
        {"id": sid, "label": lab, "metadata": {"isClosed": closed, "probability": p}}
        for sid, lab, closed, p in STAGES]}]})
    stage_id = catalog.stage_id(case(label))  # type: ignore[operator]
    assert catalog.stages[stage_id].label == label
    assert catalog.stage_id(stage_id) == stage_id


def test_blank_values_read_as_none() -> None:
    """Empty and missing HubSpot values read as None rather than failing."""
    assert parse_datetime("") is None and parse_datetime(None) is None


def test_epoch_milliseconds_are_exact_where_float_timestamps_fall_short() -> None:
    """A moment one millisecond past the second converts to that millisecond, not the one before."""
    assert epoch_ms(datetime(2004, 2, 1, 0, 0, 0, 1000, tzinfo=UTC)) == 1_075_593_600_001


def test_a_stage_label_shared_by_pipelines_resolves_within_the_deals_pipeline() -> None:
    """'Closed Lost' exists in two pipelines: a write naming the pipeline (by label or id) gets that one's id."""
    catalog = StageCatalog.from_pipelines({"results": [
        {"id": "default", "label": "Sales Pipeline", "stages": [
            {"id": "closedlost", "label": "Closed Lost", "metadata": {"isClosed": "true", "probability": "0.0"}}]},
        {"id": "765", "label": "Renewals", "stages": [
            {"id": "9001", "label": "Closed Lost", "metadata": {"isClosed": "true", "probability": "0.0"}}]}]})
    assert catalog.stage_id("Closed Lost", "Renewals") == "9001" == catalog.stage_id("closed lost", "765")
    assert catalog.stage_id("Closed Lost", "Sales Pipeline") == "closedlost"
    assert catalog.pipeline_id("renewals") == "765" and catalog.pipeline_id("765") == "765"
