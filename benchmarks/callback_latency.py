"""Redemption-to-record latency of callbacks under ``uniqodo-mock up``.

    python benchmarks/callback_latency.py                       # SQLite, 300 redemptions
    python benchmarks/callback_latency.py --db postgresql+psycopg://postgres@127.0.0.1:5432/bench

Starts ``uniqodo-mock up`` as a subprocess (free ports, a fresh database), issues N codes of
offer 1234 (pool 5000) first, then redeems them one by one. For each: the clock starts when the
redeem response arrives and stops when the receiver's ``wait`` API returns the matching call
(``param=code:...``, ``after`` = the previous call), so the figure
includes the receiver's own notification path: an upper bound of redemption-to-record.
Prints p50/p90/p99/max in milliseconds and a Markdown row for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from uniqodo_mock.receiver.client import ReceiverClient

KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=None, help="mock database URL [default: a temp SQLite]")
    parser.add_argument("-n", type=int, default=300, help="redemptions [default: 300]")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="uqm-bench-"))
    db = args.db or f"sqlite:///{tmp / 'state.db'}"
    log = tmp / "up.log"
    command = [
        sys.executable, "-m", "uniqodo_mock", "up", "--port", "0", "--receiver-port", "0",
        "--db", db, "--receiver-db", f"sqlite:///{tmp / 'calls.db'}", "--reset-fixtures",
    ]  # fmt: skip
    with log.open("w") as out:
        process = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
    try:
        deadline = time.monotonic() + 60
        while "Ctrl-C stops both" not in log.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"uniqodo-mock up did not start:\n{log.read_text()}")
            time.sleep(0.05)
        banner = log.read_text()
        api = re.search(r"API:\s+(http://\S+)", banner).group(1)
        receiver = re.search(r"Receiver:\s+(http://[0-9.:]+)", banner).group(1)
        latencies: list[float] = []
        with httpx.Client(base_url=api, timeout=30) as http, ReceiverClient(receiver) as calls:
            codes = []
            for i in range(args.n):
                answer = http.get(f"/code/{KEY}/1234", params={"uid": f"bench{i}@example.com"})
                codes.append(answer.json()["data"]["code"])
            print(f"issued {len(codes)} codes; redeeming", file=sys.stderr)
            cursor = 0  # one redemption at a time: the previous call is the newest
            for i, code in enumerate(codes):
                answer = http.get(f"/redeem/{KEY}/{code}/1", params={"orderId": f"bench-{i}"})
                started = time.perf_counter()
                assert answer.json()["result"] == "success", answer.text
                cursor = calls.wait(timeout=10, after=cursor, param=f"code:{code}")["id"]
                latencies.append((time.perf_counter() - started) * 1000)
                if (i + 1) % 100 == 0:
                    print(f"  {i + 1}/{len(codes)}", file=sys.stderr)
            failed = http.get("/__admin/deliveries", params={"status": "failed"}).json()
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(30)
    p50, p90, p99 = (_percentile(latencies, q) for q in (0.5, 0.9, 0.99))
    backend = "PostgreSQL" if db.startswith("postgresql") else "SQLite"
    print(
        f"{len(latencies)} redemptions on {backend}: p50 {p50:.1f} ms, p90 {p90:.1f} ms, "
        f"p99 {p99:.1f} ms, max {max(latencies):.1f} ms, mean {statistics.mean(latencies):.1f} ms; "
        f"failed deliveries: {len(failed['deliveries'])}"
    )
    print(
        f"| {backend} | {len(latencies)} | {p50:.1f} | {p90:.1f} | {p99:.1f} | "
        f"{max(latencies):.1f} | (Python {platform.python_version()}, nproc={os.cpu_count()}) |"
    )


if __name__ == "__main__":
    main()
