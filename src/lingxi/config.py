"""One Settings object, read once at the edge (CLI or app start) and passed down.

Library functions take parameters, not settings, so a Spark batch job can use them without an
environment. Every field is documented in docs/reference/settings.md (a test checks it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from lingxi.keys import DEV_HASH_KEY, Keyring, resolve

__all__ = ["DEV_HASH_KEY", "EngineName", "Settings"]

#: The analytic engines `LINGXI_ENGINE` accepts.
EngineName = Literal["duckdb", "spark"]


class Settings(BaseSettings):
    """Lingxi's configuration; each field can be set with an environment variable `LINGXI_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix="LINGXI_", extra="ignore")

    data_dir: Path = Field(
        default=Path("data"),
        description="Folder holding the lake (Parquet datasets), quarantine and the default SQLite store.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the operational store, e.g. postgresql+psycopg://user@host/lingxi. "
            "Unset: sqlite:///<data_dir>/lingxi.db (WAL mode)."
        ),
    )
    engine: EngineName = Field(
        default="duckdb",
        description=(
            "Analytic engine that runs the pipeline's analytic stages and the analytic commands over the lake: "
            "`duckdb` (embedded) or `spark` (see docs/operations/spark.md). The loader and the console's "
            "serving reader always run on DuckDB."
        ),
    )
    spark_master: str = Field(
        default="local[2]",
        description="Spark master URL (local[N], spark://host:port, yarn) or a Spark Connect URL sc://host:port.",
    )
    duckdb_memory_limit: str = Field(
        default="2GB", description="Memory DuckDB may use before it spills to the data directory's tmp folder."
    )
    duckdb_threads: int | None = Field(default=None, description="Threads DuckDB may use; unset means one per core.")
    max_bad_share: float = Field(
        default=0.01,
        ge=0.0,
        le=1.0,
        description="Default for `lingxi load --max-bad`: the share of quarantined rows above which a load fails.",
    )
    load_chunk_rows: int = Field(
        default=1_000_000,
        gt=0,
        description="Rows validated and written per chunk by the loader; bounds its memory.",
    )
    version_retention_days: float = Field(
        default=30.0,
        ge=0,
        description=(
            "Days an earlier lake version stays available to `lingxi rollback` after it was superseded; "
            "`lingxi lake prune` and the pipeline's `compact` stage remove folders only older versions need. "
            "Erasures reach every kept version at once."
        ),
    )
    compact_min_files: int = Field(
        default=8,
        ge=2,
        description=(
            "The pipeline's `compact` stage merges a partition of an append table into one sorted file once it "
            "holds this many files (one per daily load); `lingxi lake compact` merges from 2."
        ),
    )
    load_future_tolerance_hours: float = Field(
        default=24.0,
        ge=0,
        description=(
            "How far after the end of a load's as-of date a timestamp may lie before it is quarantined as "
            "`after_as_of` (clock skew, late business days); dates may not lie after the as-of date at all."
        ),
    )
    keyring_file: Path | None = Field(
        default=None,
        description=(
            "The keyring (hash keys and audit keys, JSON, file mode 600) that `lingxi init` creates. "
            "Unset: <data_dir>/keyring.json. Point it at a secrets mount in production (docs/security.md)."
        ),
    )
    hash_key: str | None = Field(
        default=None,
        description=(
            "The active key of the keyed hash (HMAC-SHA256) of sensitive identifiers, given directly (from a key "
            "manager) instead of the keyring file's; the file's other hash keys still match older hashes."
        ),
    )
    audit_key: str | None = Field(
        default=None,
        description="The active key of the audit chain's HMAC and checkpoints, given directly, not from the keyring.",
    )
    audit_checkpoint_file: Path | None = Field(
        default=None,
        description=(
            "Where signed checkpoints of the audit chain's head are appended (JSON lines, file mode 600), outside "
            "the database, so `lingxi audit verify` finds a log that was cut short or recomputed; a SIEM can tail "
            "it. Unset: <data_dir>/audit-checkpoints.jsonl."
        ),
    )
    audit_checkpoint_seconds: float = Field(
        default=60.0,
        gt=0,
        description=(
            "How often the server checkpoints the audit chain's head while it moves (and once when it stops). "
            "Entries written since the last checkpoint could be cut off without `lingxi audit verify` noticing."
        ),
    )
    environment: Literal["development", "production", "test"] = Field(
        default="development",
        description=(
            "`test` lets Lingxi run with the public development keys when there is no keyring (the test suite); "
            "`development` and `production` refuse them."
        ),
    )
    capabilities: str = Field(
        default="",
        description=(
            "Plug-in capabilities from outside Lingxi, as comma-separated import paths of their packages "
            "(each with a capability.py); they also come from the `lingxi.capabilities` entry points. "
            "Read by the capability registry when a command or the server starts."
        ),
    )
    max_body_bytes: int = Field(
        default=1_048_576,
        gt=0,
        description="Largest request body the API and console accept, in bytes; larger ones are answered 413.",
    )
    login_throttle: bool = Field(
        default=True,
        description=(
            "Throttle sign-in attempts per client address and per account (429 with Retry-After). The counts "
            "are kept in each server process's memory: with several processes each counts on its own."
        ),
    )
    login_attempts_per_address: int = Field(
        default=20,
        gt=0,
        description="Failed (or unfinished) sign-in attempts one client address may make per `login_window_seconds`.",
    )
    login_attempts_per_account: int = Field(
        default=10,
        gt=0,
        description="Failed (or unfinished) sign-in attempts one user name may get per `login_window_seconds`.",
    )
    login_window_seconds: float = Field(
        default=60.0, gt=0, description="Length of the sliding window the sign-in throttle counts attempts in."
    )
    login_concurrency: int = Field(
        default=1,
        gt=0,
        description=(
            "Sign-ins whose password is hashed at the same time; the rest wait without holding a worker thread "
            "or a database connection (each argon2 hash takes 64 MiB and tens of milliseconds of every core it "
            "uses). 1 keeps a sign-in flood from starving other requests on a small server; on a larger one, "
            "about a quarter of its cores."
        ),
    )
    trusted_proxies: str = Field(
        default="",
        description=(
            "Comma-separated addresses of reverse proxies whose `X-Forwarded-For` header names the client "
            "(used by the sign-in throttle). Empty: the header is ignored and the direct peer is the client."
        ),
    )
    host: str = Field(default="127.0.0.1", description="Address `lingxi serve` listens on.")
    port: int = Field(default=8000, description="Port `lingxi serve` listens on.")

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'lingxi.db').resolve()}"

    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake"

    @property
    def keyring_path(self) -> Path:
        return self.keyring_file or self.data_dir / "keyring.json"

    @property
    def audit_checkpoint_path(self) -> Path:
        return self.audit_checkpoint_file or self.data_dir / "audit-checkpoints.jsonl"

    def keyring(self) -> Keyring:
        """The keys this installation runs with (`lingxi.keys.resolve`); a ConfigError says how to get them."""
        return resolve(
            self.keyring_path, hash_key=self.hash_key, audit_key=self.audit_key, environment=self.environment
        )
