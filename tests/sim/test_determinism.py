"""Same seed, same bytes; another seed, other data with the same marginals; interrupted runs resume."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from lingxi.errors import ConfigError
from lingxi.sim import SimConfig, generate

SMALL = SimConfig(customers=3_000, days=60, seed=11, chunk_customers=1_000)


def _files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    generate(tmp_path / "a", SMALL)
    generate(tmp_path / "b", SMALL)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a.keys() == b.keys()
    assert len(a) == 1 + 2 + 3 * 8  # manifest, products and fx_rates, 3 chunks x 8 tables
    assert all(a[k] == b[k] for k in a)


def test_different_seed_gives_different_data_with_the_same_marginals(tmp_path: Path) -> None:
    generate(tmp_path / "a", SMALL)
    other = SimConfig(customers=3_000, days=60, seed=12, chunk_customers=1_000)
    generate(tmp_path / "b", other)
    a = pq.read_table(tmp_path / "a" / "customers")
    b = pq.read_table(tmp_path / "b" / "customers")
    assert a["birth_date"] != b["birth_date"]
    for column, tol in (("city_tier", 0.03), ("gender", 0.03), ("status", 0.03)):
        sa = {r["values"]: r["counts"] / a.num_rows for r in pc.value_counts(a[column].combine_chunks()).to_pylist()}
        sb = {r["values"]: r["counts"] / b.num_rows for r in pc.value_counts(b[column].combine_chunks()).to_pylist()}
        for key in sa.keys() | sb.keys():
            assert abs(sa.get(key, 0) - sb.get(key, 0)) < tol, (column, key)
    ea = pq.read_metadata(next((tmp_path / "a" / "events").glob("*.parquet"))).num_rows
    eb = pq.read_metadata(next((tmp_path / "b" / "events").glob("*.parquet"))).num_rows
    assert abs(ea - eb) / ea < 0.2  # events per 1,000 customers (heavy-tailed app use)


def test_interrupted_run_resumes_to_the_same_bytes(tmp_path: Path) -> None:
    full = tmp_path / "full"
    generate(full, SMALL)
    part = tmp_path / "part"
    generate(part, SMALL)
    (part / "events" / "part-00001.parquet").unlink()  # as if killed while writing chunk 1
    (part / "truth" / "part-00002.parquet").unlink()
    updates = []
    summary = generate(part, SMALL, progress=updates.append)
    assert summary.skipped_chunks == 1
    assert [u.skipped for u in updates] == [True, False, False]
    assert updates[-1].customers_done == 3_000
    assert _files(part) == _files(full)
    assert summary.rows["customers"] == 3_000


def test_chunks_do_not_depend_on_chunk_order(tmp_path: Path) -> None:
    """Chunk 1 alone (chunk 0 already there from another run) equals chunk 1 of a full run."""
    generate(tmp_path / "x", SMALL)
    data = (tmp_path / "x" / "transactions" / "part-00001.parquet").read_bytes()
    for p in (tmp_path / "x").rglob("part-00001.parquet"):
        p.unlink()
    generate(tmp_path / "x", SMALL)
    assert (tmp_path / "x" / "transactions" / "part-00001.parquet").read_bytes() == data


def test_refuses_to_mix_settings_in_one_folder(tmp_path: Path) -> None:
    generate(tmp_path, SMALL)
    with pytest.raises(ConfigError, match="different settings") as err:
        generate(tmp_path, SimConfig(customers=3_000, days=60, seed=99, chunk_customers=1_000))
    assert "hint" in str(err.value)


def test_bad_options_are_reported_together() -> None:
    with pytest.raises(ConfigError) as err:
        SimConfig(customers=0, days=0).check()
    assert "--customers" in str(err.value) and "--days" in str(err.value)


def test_no_temporary_files_are_left(tmp_path: Path) -> None:
    generate(tmp_path, SimConfig(customers=500, days=30, seed=1, chunk_customers=200))
    assert not list(tmp_path.rglob("*.tmp"))
    assert np.all([p.name.startswith("part-") for p in tmp_path.rglob("*.parquet")])
