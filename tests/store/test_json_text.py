"""The JSON the store writes reads back as what ``json.dumps`` wrote, whatever a CRM's data holds."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from domain.plan import Finding
from domain.records import ObjectType
from store.json_text import json_text

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(st.text(max_size=8) | st.integers(), inner, max_size=4), max_leaves=12)


@given(values)
def test_any_json_value_reads_back_as_json_dumps_wrote_it(value: Any) -> None:
    """Integers beyond 64 bits included (orjson refuses them: ``json.dumps`` writes those)."""
    assert json.loads(json_text(value)) == json.loads(json.dumps(value))


def test_a_judgment_with_an_integer_beyond_64_bits_is_written_field_by_field() -> None:
    """A rule's stored judgment holds dataclasses; when orjson refuses one of their values they are still written."""
    finding = Finding("gates", ObjectType.OPPORTUNITY, "006A", "005A", "missing field",
                      {"amount": 2**70, "stage": "Negotiation"})
    assert json.loads(json_text({"f": (finding,)})) == {"f": [{
        "rule": "gates", "object": "opportunity", "record_id": "006A", "owner_id": "005A", "reason": "missing field",
        "evidence": {"amount": 2**70, "stage": "Negotiation"}}]}
