"""What a reset costs (``POST /__admin/reset``, the pytest plugin's per-test reset): the
template restore (``store/template.py``) against loading the fixtures again, on SQLite and
PostgreSQL, with the default fixtures.

    .venv/bin/python benchmarks/reset.py [--resets 50] [--pg URL | --no-pg]

A live mock in this process (uvicorn in a thread, ``testing.running_mock``); each round writes
what a test would (a code issued, validated and redeemed, a callback subscription) and then
times one reset through the admin API over HTTP. "reload" is the same request with the
template discarded beforehand (``discard_template``), so it takes the old path: the fixtures
loaded again (and the template prepared). Results go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from uniqodo_mock.mock.runtime import MockConfig
from uniqodo_mock.store.template import discard_template
from uniqodo_mock.testing import RunningMock, running_mock
from uniqodo_mock.testing.mock import DISTRIBUTOR_KEY, MERCHANT_KEY

DEFAULT_PG = os.environ.get(
    "UNIQODO_MOCK_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/uqm_bench_reset"
)


def _writes(mock: RunningMock, round_no: int) -> None:
    code = mock.get(f"/code/{MERCHANT_KEY}/4883?uid=bench-{round_no}@example.com").json()
    issued = code["data"]["code"]
    mock.get(f"/validate/{MERCHANT_KEY}/{issued}/1")
    mock.get(f"/redeem/{MERCHANT_KEY}/{issued}/1?orderId=b-{round_no}&orderValue=20")
    mock.get(f"/code/{DISTRIBUTOR_KEY}/4883?uid=bench-{round_no}@example.com")
    mock.admin.post(
        "/callbacks", json={"url": "http://127.0.0.1:9/bench", "params": {"code": "code"}}
    ).raise_for_status()


def _timed_resets(
    mock: RunningMock, resets: int, *, reload: bool
) -> tuple[list[float], list[float]]:
    """Wall-clock ms of each reset, and this process's CPU ms for it (the server runs in a
    thread of this process: its work, whatever else the machine is doing)."""
    wall, cpu = [], []
    for round_no in range(resets):
        _writes(mock, round_no)
        if reload:
            discard_template(mock.runtime.repo)
        started, started_cpu = time.perf_counter(), time.process_time()
        mock.admin.post("/reset").raise_for_status()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return wall, cpu


def _p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20, method="inclusive")[-1]


def measure(db_url: str, resets: int) -> dict[str, tuple[list[float], list[float]]]:
    config = MockConfig(db_url=db_url, reset_fixtures=True, dispatch_callbacks=False)
    with running_mock(config) as mock:
        _timed_resets(mock, 3, reload=False)  # warm up both paths' statements
        _timed_resets(mock, 3, reload=True)
        return {
            "reload": _timed_resets(mock, resets, reload=True),
            "template": _timed_resets(mock, resets, reload=False),
        }


def _pg_database(url: str, *, create: bool) -> bool:
    """(Re)create, or drop, the benchmark's own PostgreSQL database."""
    import psycopg

    base, name = url.rsplit("/", 1)
    try:
        with psycopg.connect(
            base.replace("postgresql+psycopg://", "postgresql://") + "/postgres",
            autocommit=True,
            connect_timeout=3,
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if create:
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as error:
        print(f"PostgreSQL at {base}: not measured ({error.__class__.__name__})")
        return False
    return True


def report(name: str, results: dict[str, tuple[list[float], list[float]]]) -> None:
    (reload, reload_cpu), (template, template_cpu) = results["reload"], results["template"]
    print(f"{name} ({len(template)} resets each), ms:")
    print(f"  {'':10} {'median':>8} {'p95':>8} {'CPU median':>11}")
    for label, samples, cpu in (
        ("reload", reload, reload_cpu),
        ("template", template, template_cpu),
    ):
        print(
            f"  {label:10} {statistics.median(samples):8.2f} {_p95(samples):8.2f}"
            f" {statistics.median(cpu):11.2f}"
        )
    print(
        f"  reload / template: median x{statistics.median(reload) / statistics.median(template):.1f}"
        f", p95 x{_p95(reload) / _p95(template):.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resets", type=int, default=50, help="timed resets per path")
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL database URL (recreated)")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report("SQLite", measure(f"sqlite:///{Path(tmp) / 'bench.db'}", args.resets))
    if not args.no_pg and _pg_database(args.pg, create=True):
        try:
            report("PostgreSQL", measure(args.pg, args.resets))
        finally:
            _pg_database(args.pg, create=False)


if __name__ == "__main__":
    main()
