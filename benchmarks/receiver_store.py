"""CPU cost of storing recorded callbacks, without HTTP: batches of 50 calls (what the receiver's
group-commit writer sees at concurrency 50), 12 parameters per call, written through one
``BatchInserter`` holding its connection, as the writer thread does.

    python benchmarks/receiver_store.py --db postgresql+psycopg://postgres@127.0.0.1:5432/bench

Prints calls/s (wall) and CPU µs per call (``time.process_time()``), the best of ``--rounds``.
The database's receiver tables are created if missing; the rows written are left in place.
"""

from __future__ import annotations

import argparse
import time

from uniqodo_mock.receiver.inserter import BatchInserter
from uniqodo_mock.receiver.migrations import upgrade_schema
from uniqodo_mock.receiver.model import Param, RecordedCall, Verdict, micros_now
from uniqodo_mock.store.engine import create_db_engine

NAMES = ["id", "orderId", "code", "offerId", "value", "currency", "redeemedAt", "customer",
         "merchantId", "promotionUuid", "status", "basket"]  # fmt: skip


def record(i: int) -> RecordedCall:
    form = "application/x-www-form-urlencoded"
    return RecordedCall(
        "POST", "/callback", "", [("content-type", form)] * 8, b"x" * 400, micros_now(),
        client="127.0.0.1:1", content_type=form, body_size=400,
        params=[Param("form", name, f"v{i}-{name}") for name in NAMES],
        verdict=Verdict(True, True, ()),
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="database URL")
    parser.add_argument("--batches", type=int, default=60, help="batches per round")
    parser.add_argument("--batch", type=int, default=50, help="calls per batch")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (best kept)")
    args = parser.parse_args()
    engine = create_db_engine(args.db)
    upgrade_schema(engine)
    inserter = BatchInserter(engine)
    n = args.batches * args.batch
    best_cpu, best_wall = float("inf"), float("inf")
    for _ in range(args.rounds):
        batches = [
            [record(b * args.batch + i) for i in range(args.batch)] for b in range(args.batches)
        ]
        wall, cpu = time.perf_counter(), time.process_time()
        for batch in batches:
            inserter.insert(batch)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    print(f"{n / best_wall:,.0f} calls/s wall, {best_cpu / n * 1e6:.0f} µs CPU per call")
    inserter.close()
    engine.dispose()


if __name__ == "__main__":
    main()
