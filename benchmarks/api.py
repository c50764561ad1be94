"""Customer-360 latency over HTTP with 100k customers, against a bare FastAPI endpoint serving the same JSON.

    python benchmarks/api.py [--customers 100000] [--days 30] [--requests 1000] [--out benchmarks/out]

Generates the synthetic bank once (cached under OUT/api-bank-<customers>-<days>/), loads it through the
pipeline, then starts two uvicorn servers on 127.0.0.1 in this process:
  - lingxi: the real app (`create_app`): bearer-token authentication, branch scope, six lake queries
    through DuckDB, masking, pydantic validation and two audit writes per read;
  - baseline: a bare FastAPI app whose endpoint returns the same JSON bodies from a dict in memory.
Both are called sequentially with one keep-alive HTTP client over the same random customer ids.
Prints p50, p90, p99 and mean latency for each and the ratio lingxi / baseline. Target: p99 < 50 ms.
"""

from __future__ import annotations

import argparse
import random
import socket
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI
from fastapi.responses import Response

from lingxi.api.app import create_app
from lingxi.auth import Argon2Params, AuthPolicy, audit, service
from lingxi.config import Settings
from lingxi.engine.duckdb import DuckDBEngine
from lingxi.keys import create_file
from lingxi.pipeline import StageContext, run_pipeline
from lingxi.store import Lake, connect, migrate

CHEAP = AuthPolicy(hashing=Argon2Params(time_cost=1, memory_cost_kib=8, parallelism=1))
PASSWORD = "benchmark password 1"


def build(out: Path, customers: int, days: int) -> Settings:
    """The loaded bank (generated and loaded once, then reused) and a strategist to read it."""
    from lingxi.sim import SimConfig, generate

    root = out / f"api-bank-{customers}-{days}"
    settings = Settings(data_dir=root / "data")
    create_file(settings.keyring_path)  # as `lingxi init` does: the bank's own random keys
    done = root / "loaded"
    if not done.exists():
        started = time.perf_counter()
        key = settings.keyring().hash_key
        generate(root / "extracts", SimConfig(customers=customers, days=days, seed=7, hash_key=key))
        store = connect(settings.resolved_database_url)
        audit.bind_keys(store, settings.keyring().audit)  # the app's keys: its audit chain goes on from here
        migrate(store)
        with DuckDBEngine(memory_limit="2GB") as engine:
            run_pipeline(
                StageContext(
                    lake=Lake(settings.lake_dir, store), engine=engine, loader=engine, extracts=root / "extracts"
                )
            )
        service.create_user(store, "bench", PASSWORD, "strategist", by="cli:benchmark", policy=CHEAP)
        store.dispose()
        done.write_text("ok")
        print(f"generated and loaded {customers:,} customers over {days} days in {time.perf_counter() - started:.0f} s")
    return settings


def serve(app: FastAPI) -> tuple[str, Callable[[], None]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    return f"http://127.0.0.1:{port}", stop


def timed(client: httpx.Client, urls: list[str], headers: dict[str, str]) -> tuple[list[float], list[bytes]]:
    times, bodies = [], []
    for url in urls:
        started = time.perf_counter()
        r = client.get(url, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200, r.text[:200]
        bodies.append(r.content)
    return times, bodies


def summary(times: list[float]) -> dict[str, float]:
    q = statistics.quantiles(times, n=100, method="inclusive")
    return {"p50": q[49], "p90": q[89], "p99": q[98], "mean": statistics.fmean(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out"))
    args = parser.parse_args()

    settings = build(args.out, args.customers, args.days)
    app = create_app(settings, policy=CHEAP)
    token = service.issue_token(
        app.state.lingxi.store, "bench", ["customer:read", "customer:read_all_branches"], by="cli:benchmark"
    ).secret
    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random(1)
    ids = [f"C{rng.randrange(args.customers):09d}" for _ in range(args.requests)]
    warm = [f"C{rng.randrange(args.customers):09d}" for _ in range(50)]

    base, stop = serve(app)
    with httpx.Client(base_url=base, timeout=30) as client:
        timed(client, [f"/api/v1/customers/{c}" for c in warm], headers)
        lingxi_times, bodies = timed(client, [f"/api/v1/customers/{c}" for c in ids], headers)
    stop()

    memory: dict[str, bytes] = dict(zip(ids, bodies, strict=True))
    bare = FastAPI()

    @bare.get("/api/v1/customers/{customer_id}")
    def from_memory(customer_id: str) -> Response:
        return Response(memory[customer_id], media_type="application/json")

    base, stop = serve(bare)
    with httpx.Client(base_url=base, timeout=30) as client:
        timed(client, [f"/api/v1/customers/{c}" for c in warm if c in memory] or ["/api/v1/customers/" + ids[0]], {})
        bare_times, _ = timed(client, [f"/api/v1/customers/{c}" for c in ids], {})
    stop()

    lx, bl = summary(lingxi_times), summary(bare_times)
    size = statistics.fmean(len(b) for b in bodies)
    print(
        f"\ncustomer 360 over HTTP: {args.customers:,} customers, {args.requests} sequential requests, "
        f"mean body {size / 1024:.1f} KiB"
    )
    print(f"{'':10}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}{'mean ms':>10}")
    for name, s in (("lingxi", lx), ("baseline", bl)):
        print(f"{name:10}" + "".join(f"{s[k]:>10.2f}" for k in ("p50", "p90", "p99", "mean")))
    print(f"{'ratio':10}" + "".join(f"{lx[k] / bl[k]:>10.1f}" for k in ("p50", "p90", "p99", "mean")))
    verdict = "meets" if lx["p99"] < 50 else "MISSES"
    print(f"\nlingxi p99 {lx['p99']:.1f} ms {verdict} the 50 ms target")


if __name__ == "__main__":
    main()
