"""Conditions on a record's fields, as typed data rather than expression strings (a route's ``where:``).

``country: [US, CA]`` holds when the field is one of the values (text compared ignoring case and
surrounding spaces); ``employees: {at_least: 1000}`` when it is a number in the range. Field names
are the policy's: a normalized field (``company``, ``email``) or a custom one mapped in ``fields:``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from config.identifiers import FieldName


class Range(BaseModel):
    """A number between two bounds: ``{at_least: 200, below: 1000}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    at_least: float | None = Field(None, allow_inf_nan=False, description="Smallest value that matches.")
    below: float | None = Field(None, allow_inf_nan=False, description="Values from this one up do not match.")

    @model_validator(mode="after")
    def _bounded(self) -> Range:
        if self.at_least is None and self.below is None:
            raise ValueError("give at_least, below or both")
        if self.at_least is not None and self.below is not None and self.at_least >= self.below:
            raise ValueError(f"at_least {self.at_least:g} must be below {self.below:g}")
        return self

    def describe(self) -> str:
        parts = [f"at least {self.at_least:g}" if self.at_least is not None else "",
                 f"below {self.below:g}" if self.below is not None else ""]
        return " and ".join(p for p in parts if p)


def _listed(value: object) -> object:
    """``country: US`` means ``country: [US]``."""
    return (value,) if isinstance(value, str | int | float) and not isinstance(value, bool) else value


OneOf = Annotated[tuple[str | float, ...], BeforeValidator(_listed), Field(min_length=1)]
Condition = Range | OneOf
Conditions = dict[FieldName, Condition]
