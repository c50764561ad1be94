"""Response bodies of the quarantine API: loads with quarantined rows, and one load's quarantine for a reader.

Values in `top` and `samples` are what the reader may see: masked for their role by lingxi.ingest.masked
before these models see them (`[withheld]` where they may see nothing).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from lingxi.api.schemas import Model, StoreTime


class QuarantinedLoadPublic(Model):
    load_id: str
    table: str
    status: str = Field(description="published, rejected, empty or failed: what the load did with its good rows.")
    source: str
    started_at: StoreTime
    rows_in: int
    rows_quarantined: int
    reasons: dict[str, int] = Field(description="Rows per `field: code` as the load counted them.")


class QuarantinedLoadsPublic(Model):
    data: list[QuarantinedLoadPublic]
    count: int


class TopValuePublic(Model):
    value: str | None
    rows: int


class MappingLinePublic(Model):
    section: str = Field(description="The mapping file's section: columns, values, ...")
    column: str
    line: int = Field(description="1-based line number in the mapping file.")
    text: str


class ReasonPublic(Model):
    field: str
    code: str
    meaning: str
    rows: int = Field(description="Rows in the quarantine now with this problem (an erasure removes rows).")
    top: list[TopValuePublic] = Field(description="The most frequent offending values, masked for the reader.")
    mapping: list[MappingLinePublic] = Field(description="The mapping file's lines that produce the field.")


class SamplePublic(Model):
    file: str
    row: int | None
    field: str
    reason: str
    value: str | None
    problems: list[str]
    record: dict[str, Any] = Field(description="The input row, masked for the reader; withheld fields left out.")


class QuarantineReviewPublic(Model):
    table: str
    load: QuarantinedLoadPublic | None = Field(description="None: the table has no quarantined rows.")
    mapping_file: str | None = Field(description="The mapping file the load used, if any.")
    reason: str | None
    reasons: list[ReasonPublic]
    samples: list[SamplePublic]
