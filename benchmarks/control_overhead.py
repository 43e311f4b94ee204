"""What the test controls cost: the control middleware on every vendor request (clock refresh,
fault lookup, journal entry) and journal queries over a full journal.

    .venv/bin/python benchmarks/control_overhead.py

Runs in process (starlette TestClient, SQLite in a temp dir): it measures the mock's own work,
not HTTP. Results go in docs/benchmarks.md.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime

from starlette.testclient import TestClient

from uniqodo_mock.control.journal import Journal, JournalEntry, JournalQuery
from uniqodo_mock.mock.app import create_app
from uniqodo_mock.mock.runtime import MockConfig
from uniqodo_mock.testing.mock import MERCHANT_KEY

REQUESTS = 1000


def per_request_ms(client: TestClient, path: str) -> float:
    samples = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(MockConfig(db_url=f"sqlite:///{tmp}/bench.db"))
        path = f"/validate/{MERCHANT_KEY}/AB12E3GX/1"
        with TestClient(app) as client:
            rules = app.runtime.controls.faults
            seeded = len(rules.list())
            with_rules = per_request_ms(client, path)
            rules.clear()
            without_rules = per_request_ms(client, path)
            app.runtime.load_fixtures(app.runtime.fixtures)  # the rules again
        print(f"validate (unknown code), median of {REQUESTS}:")
        print(f"  {seeded} fixture fault rules: {with_rules:.3f} ms")
        print(f"  no fault rules:           {without_rules:.3f} ms")

        started = time.perf_counter()
        for _ in range(10_000):
            rules.decide("validate_code", path, "AB12E3GX")
        print(
            f"  fault lookup alone, {seeded} rules, no match: "
            f"{(time.perf_counter() - started) * 100:.2f} µs"
        )

    journal = Journal(10_000)
    now = datetime.now(UTC)
    for i in range(10_000):
        journal.add(
            JournalEntry(
                journal.next_id(),
                now,
                now,
                "GET",
                "/validate/k/C/1",
                "validate_code" if i % 2 else "redeem_code",
                {},
                200,
                "k",
                f"C{i}",
            )
        )
    for name, query in (
        ("newest 100", JournalQuery()),
        ("by code (1 match, full scan)", JournalQuery(code="C5")),
        ("by operation, limit 1000", JournalQuery(operation="redeem_code", limit=1000)),
    ):
        started = time.perf_counter()
        for _ in range(100):
            journal.query(query)
        print(f"journal of 10,000, {name}: {(time.perf_counter() - started) * 10:.3f} ms")


if __name__ == "__main__":
    main()
