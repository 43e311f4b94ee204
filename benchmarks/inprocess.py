"""What each speed change buys, measured in-process (no HTTP, no wrk): the ASGI app is called
directly, N requests per route, with the fast path and the read cache switched on and off.

    python benchmarks/inprocess.py [--requests 2000] [--rounds 5]

Prints a Markdown table: CPU microseconds per request (``time.process_time()``, the best of
``--rounds`` rounds: other jobs on a shared machine slow a round down, never speed it up) and
the requests per second one core would do at that cost, SQLite in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from typing import Any

from uniqodo_mock.mock.app import create_app
from uniqodo_mock.mock.runtime import MockConfig, build_runtime

KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"
ROUTES = {
    "code": (f"/code/{KEY}/4883", b"uid=bench@example.com"),
    "query": (
        f"/publisher/{KEY}/query/user-redemption/0821f4190897965c33eaca7954db5f23",
        b"userId=bench@example.com",
    ),
}


async def call(app: Any, path: str, query: bytes) -> int:
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    await app(scope, receive, send)
    return status


async def cpu_cost(app: Any, path: str, query: bytes, n: int, rounds: int) -> float:
    """CPU seconds per request, the best round of ``rounds``."""
    for _ in range(50):
        assert await call(app, path, query) == 200
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(n):
            await call(app, path, query)
        best = min(best, (time.process_time() - started) / n)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per route (best kept)")
    parser.add_argument("--only-default", action="store_true", help="fast path + cache only")
    parser.add_argument(
        "--db",
        default=None,
        help="database URL to use instead of SQLite in a temporary directory (its data is "
        "replaced by the default fixtures)",
    )
    args = parser.parse_args()
    print(
        "| fast path | read cache | code µs CPU | code req/s/core | query µs CPU | query req/s/core |"
    )
    print("|---|---|---|---|---|---|")
    configs = (
        [(True, 0.1)]
        if args.only_default
        else [(fast, ttl) for fast in (False, True) for ttl in (0.0, 0.1)]
    )
    for fast, ttl in configs:
        with tempfile.TemporaryDirectory() as tmp:
            config = MockConfig(
                db_url=args.db or f"sqlite:///{tmp}/b.db",
                fast_path=fast,
                read_cache_ttl=ttl,
                reset_fixtures=args.db is not None,
            )
            runtime = build_runtime(config)
            app = create_app(runtime=runtime)
            costs = [
                asyncio.run(cpu_cost(app, p, q, args.requests, args.rounds))
                for p, q in ROUTES.values()
            ]
            runtime.repo.close()
            runtime.engine.dispose()
        on = {True: "on", False: "off"}
        cells = " | ".join(f"{c * 1e6:,.0f} | {1 / c:,.0f}" for c in costs)
        print(f"| {on[fast]} | {on[ttl > 0]} | {cells} |", flush=True)


if __name__ == "__main__":
    main()
