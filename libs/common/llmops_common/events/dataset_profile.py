"""The EDA profile of a dataset version: part of `llmops.data.dataset.sealed.v1`, so part of the contract.

The profile is a closed model, saved beside the dataset in the artifact store and carried whole in the
dataset event. `DatasetProfile.metric_rows` flattens it into (metric, key, value) rows, the shape a
long `dataset_profiles` table takes without a column per reason or PII type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from .base import ClosedModel

LengthField = Literal["prompt", "completion", "total"]
"""What a length counts: the prompt (or every non-assistant turn), the completion (or every assistant
turn), or the whole example."""


class HistogramBin(ClosedModel):
    """Examples whose length in tokens is in [lower, upper)."""

    lower: int = Field(ge=0)
    upper: int = Field(ge=1)
    count: int = Field(ge=0)


class TokenLengths(ClosedModel):
    """The distribution of one length over a version's examples, in tokens of the profile's tokenizer."""

    field: LengthField
    min: int = Field(ge=0)
    max: int = Field(ge=0)
    mean: float = Field(ge=0)
    p50: int = Field(ge=0)
    p90: int = Field(ge=0)
    p99: int = Field(ge=0)
    histogram: list[HistogramBin]
    """Equal-width bins from 0 to past the longest example; empty when the version has no rows."""


class SourceRows(ClosedModel):
    """How many of a version's rows came from one source."""

    source: str
    rows: int = Field(ge=0)


class DatasetProfile(ClosedModel):
    """What a dataset version holds and what cleaning it took.

    The row counts and lengths describe the version's rows. The other counts cover every record that
    was submitted for the dataset up to the version, kept or not: PII values redacted, records
    rejected by reason, duplicates dropped, and examples removed by erasure requests.
    """

    tokenizer: str = Field(description="The tokenizer the lengths are counted with (a setting of the ingestion).")
    rows: int = Field(ge=0)
    train_rows: int = Field(ge=0)
    eval_rows: int = Field(ge=0)
    sources: int = Field(ge=0, description="The number of distinct sources of the rows.")
    top_sources: list[SourceRows] = Field(description="The sources with the most rows, most first (at most 10).")
    token_lengths: list[TokenLengths]
    records_seen: int = Field(ge=0, description="Records submitted for the dataset and run through the pipeline.")
    exact_duplicates_removed: int = Field(ge=0)
    near_duplicates_removed: int = Field(ge=0)
    pii_hits: dict[str, int] = Field(description="PII values redacted, by type; every type is present.")
    rejects: dict[str, int] = Field(description="Records rejected, by reason; every reason is present.")
    examples_erased: int = Field(default=0, ge=0, description="Examples removed by erasure requests.")

    def metric_rows(self) -> list[ProfileMetric]:
        """The profile as flat rows, one number each, for a long table (`metric`, `key`, `value`)."""
        rows = [
            ProfileMetric("rows", "", self.rows),
            ProfileMetric("rows", "train", self.train_rows),
            ProfileMetric("rows", "eval", self.eval_rows),
            ProfileMetric("sources", "", self.sources),
            ProfileMetric("records_seen", "", self.records_seen),
            ProfileMetric("duplicates_removed", "exact", self.exact_duplicates_removed),
            ProfileMetric("duplicates_removed", "near", self.near_duplicates_removed),
            ProfileMetric("examples_erased", "", self.examples_erased),
        ]
        rows += [ProfileMetric("pii_hits", kind, count) for kind, count in sorted(self.pii_hits.items())]
        rows += [ProfileMetric("rejects", reason, count) for reason, count in sorted(self.rejects.items())]
        rows += [ProfileMetric("source_rows", top.source, top.rows) for top in self.top_sources]
        for lengths in self.token_lengths:
            metric = f"tokens.{lengths.field}"
            rows += [
                ProfileMetric(metric, stat, float(getattr(lengths, stat)))
                for stat in ("min", "max", "mean", "p50", "p90", "p99")
            ]
            rows += [ProfileMetric(f"{metric}.histogram", f"{b.lower}-{b.upper}", b.count) for b in lengths.histogram]
        return rows


@dataclass(frozen=True, slots=True)
class ProfileMetric:
    """One number of a profile: `("rejects", "empty", 3.0)`, `("tokens.prompt", "p90", 41.0)`."""

    metric: str
    key: str
    value: float
