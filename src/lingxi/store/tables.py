"""Operational-store tables (SQLAlchemy 2). Schema changes go through an Alembic migration."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of every operational-store table (names start with `lx_`)."""


class Dataset(Base):
    """A lake dataset and the pointer to its published snapshot."""

    __tablename__ = "lx_dataset"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    current_version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    # a derived dataset whose sources were rolled back or had a period replaced; cleared by its next publish
    stale_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    stale_since: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class DatasetVersion(Base):
    """One published snapshot: the immutable folders that make up the dataset at that version."""

    __tablename__ = "lx_dataset_version"
    __table_args__ = (UniqueConstraint("dataset", "version", name="uq_dataset_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset: Mapped[str] = mapped_column(ForeignKey("lx_dataset.name"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    parts: Mapped[list[str]] = mapped_column(JSON)  # folders relative to the lake root
    row_count: Mapped[int] = mapped_column(BigInteger)
    contract_version: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[date | None] = mapped_column(Date, nullable=True)
    load_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    note: Mapped[str | None] = mapped_column(String(200), nullable=True)  # what published it, when not a load
    carries: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)  # folders whose rows parts[0] carries over


class Load(Base):
    """One run of the loader over one input: what came in, what landed, what was quarantined and why."""

    __tablename__ = "lx_load"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    dataset: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(Text)
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))  # running, published, rejected, failed, unchanged
    rows_in: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_loaded: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_quarantined: Mapped[int] = mapped_column(BigInteger, default=0)
    reasons: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    quarantine_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
