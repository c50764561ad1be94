"""A login flood against a signed-in reader: 64 concurrent bad sign-ins from 16 loopback addresses, production argon2.

    python benchmarks/login_flood.py [--customers 20000] [--days 30] [--per-client 4] [--out benchmarks/out]

Reuses the cached bank of benchmarks/api.py (generated once under OUT/api-bank-<customers>-<days>/) and serves the
real app (`create_app`, production password hashing: argon2id 3 passes, 64 MiB) with uvicorn on 127.0.0.1. A
signed-in strategist reads customers (GET /api/v1/customers/{id}) one after another, first with no flood, then
while 64 threads send bad sign-ins (`--per-client` each, so 256 by default) from 127.0.0.2 to 127.0.0.17 for
eight user names. Run twice: with the sign-in throttle on (the defaults: 20 attempts per address and 10 per
account per minute) and off, so the connection-pool fix shows on its own. Prints the status codes of the flood
(no 5xx allowed) and the reader's p50/p99 with and without the flood, and the ratio (target <= 3x).
Loopback only; every count is bounded.
"""

from __future__ import annotations

import argparse
import random
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from api import build, serve  # benchmarks/api.py: the cached bank and a uvicorn server on 127.0.0.1
from lingxi.api.app import create_app
from lingxi.auth import service

PASSWORD = "benchmark password 1"
CLIENTS = 64
ADDRESSES = [f"127.0.0.{i}" for i in range(2, 18)]


def quantiles(times: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(times, n=100, method="inclusive")
    return q[49], q[98]


def read(client: httpx.Client, ids: list[str], stop: threading.Event | None = None) -> tuple[list[float], Counter[int]]:
    times, codes = [], Counter[int]()
    for i, c in enumerate(ids):
        if stop is not None and stop.is_set() and i >= 50:
            break
        started = time.perf_counter()
        r = client.get(f"/api/v1/customers/{c}")
        times.append((time.perf_counter() - started) * 1000)
        codes[r.status_code] += 1
    return times, codes


def flood(base: str, per_client: int) -> Counter[int]:
    def one(i: int) -> list[int]:
        transport = httpx.HTTPTransport(local_address=ADDRESSES[i % len(ADDRESSES)])
        with httpx.Client(base_url=base, transport=transport, timeout=120) as c:
            return [
                c.post(
                    "/api/v1/auth/login", json={"username": f"guess{(i + k) % 8}", "password": "wrong guess!"}
                ).status_code
                for k in range(per_client)
            ]

    with ThreadPoolExecutor(CLIENTS) as pool:
        return Counter(code for codes in pool.map(one, range(CLIENTS)) for code in codes)


def run(settings_update: dict[str, object], args: argparse.Namespace, ids: list[str]) -> dict[str, object]:
    settings = build(args.out, args.customers, args.days).model_copy(update=settings_update)
    app = create_app(settings)  # production argon2
    store = app.state.lingxi.store
    try:
        service.reset_password(store, "bench", PASSWORD, by="cli:benchmark")  # a production-strength hash
    except Exception:  # noqa: BLE001 - same password as before is fine
        pass
    base, stop = serve(app)
    try:
        with httpx.Client(base_url=base, timeout=120) as reader:
            r = reader.post("/api/v1/auth/login", json={"username": "bench", "password": PASSWORD})
            assert r.status_code == 200, r.text
            read(reader, ids[:30])  # warm
            quiet, _ = read(reader, ids[:200])
            done = threading.Event()
            result: dict[str, Counter[int]] = {}

            def attack() -> None:
                result["codes"] = flood(base, args.per_client)
                done.set()

            started = time.perf_counter()
            attacker = threading.Thread(target=attack)
            attacker.start()
            time.sleep(0.05)
            loud, reader_codes = read(reader, ids * 50, done)
            attacker.join()
            seconds = time.perf_counter() - started
    finally:
        stop()
        app.state.lingxi.reader.close()
        store.dispose()
    q50, q99 = quantiles(quiet)
    f50, f99 = quantiles(loud)
    return {
        "flood": result["codes"],
        "reader_codes": reader_codes,
        "reads": len(loud),
        "seconds": seconds,
        "quiet": (q50, q99),
        "flooded": (f50, f99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-client", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out"))
    parser.add_argument("--concurrency", type=int, default=None, help="LINGXI_LOGIN_CONCURRENCY for the app")
    args = parser.parse_args()
    rng = random.Random(1)
    ids = [f"C{rng.randrange(args.customers):09d}" for _ in range(400)]
    slots = {} if args.concurrency is None else {"login_concurrency": args.concurrency}
    rows = [(name, run({"login_throttle": on, **slots}, args, ids)) for name, on in (("on", True), ("off", False))]
    total = CLIENTS * args.per_client
    print(f"\nlogin flood: {total} bad sign-ins, {CLIENTS} concurrent, from {len(ADDRESSES)} loopback addresses")
    print("| throttle | flood answers | flood s | reads | reader p50 / p99 no flood (ms) ", end="")
    print("| p50 / p99 in flood (ms) | p99 ratio |")
    print("|---|---|---|---|---|---|---|")
    for name, r in rows:
        flood_codes = ", ".join(f"{n}x {c}" for c, n in sorted(r["flood"].items()))  # type: ignore[attr-defined]
        (q50, q99), (f50, f99) = r["quiet"], r["flooded"]  # type: ignore[misc]
        print(
            f"| {name} | {flood_codes} | {r['seconds']:.1f} | {r['reads']} | {q50:.1f} / {q99:.1f} | "
            f"{f50:.1f} / {f99:.1f} | {f99 / q99:.1f}x |"
        )
        bad = [c for c in (*r["flood"], *r["reader_codes"]) if c >= 500]  # type: ignore[misc]
        assert not bad, f"5xx answers with the throttle {name}: {bad}"
        assert set(r["reader_codes"]) == {200}, r["reader_codes"]  # type: ignore[arg-type]
    print("\ntarget: reader p99 in the flood <= 3x its p99 with no flood")


if __name__ == "__main__":
    main()
