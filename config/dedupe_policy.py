"""The policy's ``dedupe:`` block: who survives a merge, which field values win, and what may run unattended."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SurvivorCriterion = Literal["most_open_opportunities", "most_activity", "oldest", "customer_over_prospect",
                            "most_complete"]
FieldRule = Literal["master", "newest_non_empty", "longest", "sum"]
DEFAULT_SUFFIXES: dict[str, tuple[str, ...]] = {"Inc.": ("Inc", "Inc.", "Incorporated")}
DEFAULT_FIELD_RULES: dict[str, FieldRule] = {
    "website": "newest_non_empty", "phone": "newest_non_empty", "billing_city": "newest_non_empty",
    "billing_postcode": "newest_non_empty",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NamingConvention(_Strict):
    """Rename the surviving account so every legal-suffix variant reads one way ("Acme Products, Inc.")."""

    suffixes: dict[str, tuple[str, ...]] = Field(
        default_factory=lambda: dict(DEFAULT_SUFFIXES),
        description="Canonical suffix -> the spellings it replaces, matched at the end of the name ignoring case.",
    )
    separator: str = Field(", ", description="Written between the name and its canonical suffix.")

    @model_validator(mode="after")
    def _variants_unique(self) -> NamingConvention:
        seen: dict[str, str] = {}
        for canonical, variants in self.suffixes.items():
            for variant in variants:
                other = seen.setdefault(variant.lower(), canonical)
                if other != canonical:
                    raise ValueError(f"suffix {variant!r} is listed under both {other!r} and {canonical!r}")
        return self


class DedupePolicy(_Strict):
    """How duplicate accounts are merged (``warden dedupe`` and the scheduled ``dedupe`` rule)."""

    survivor: tuple[SurvivorCriterion, ...] = Field(
        ("most_open_opportunities", "most_activity", "customer_over_prospect", "oldest", "most_complete"),
        min_length=1,
        description="Criteria that choose the master, in order; later ones break ties of earlier ones.",
    )
    fields: dict[str, FieldRule] = Field(
        default_factory=lambda: dict(DEFAULT_FIELD_RULES),
        description="Account field (or custom field) -> the value the master keeps; unnamed fields: the master's.",
    )
    auto_merge: bool = Field(
        False, description="The scheduled dedupe job merges auto-tier clusters (name and independent evidence "
        "agree) without an admin, and `warden dedupe plan` writes them approved; review-tier clusters never.",
    )
    max_auto_merges: int = Field(
        20, ge=1, description="Most clusters one scheduled run merges unattended; the rest wait for the next run."
    )
    rename: NamingConvention | None = Field(None, description="Rename masters to this naming convention.")
    max_cluster: int = Field(30, ge=2, description="Larger clusters become a finding instead of a merge.")
