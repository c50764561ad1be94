"""The synthetic bank: contract tables with hidden ground truth, deterministic by seed.

Use `generate(out, SimConfig(customers=10_000, seed=7))` to write OUT/<table>/part-NNNNN.parquet for
every contract table plus OUT/truth/, and `respond()` to sample how a customer reacts to an offer.
See docs/sim.md.
"""

from __future__ import annotations

from lingxi.sim.generate import CHUNK_TABLES, Progress, SimConfig, SimSummary, generate, generate_chunk
from lingxi.sim.params import CHANNELS, OFFER_TYPES, SimParams
from lingxi.sim.truth import Response, purchase_probability, respond, respond_batch

__all__ = [
    "CHANNELS",
    "CHUNK_TABLES",
    "OFFER_TYPES",
    "Progress",
    "Response",
    "SimConfig",
    "SimParams",
    "SimSummary",
    "generate",
    "generate_chunk",
    "purchase_probability",
    "respond",
    "respond_batch",
]
