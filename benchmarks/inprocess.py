"""What each speed change buys, measured in-process (no HTTP, no wrk): the ASGI app is called
directly, N requests per route, with the fast path and the read cache switched on and off.

    python benchmarks/inprocess.py [--requests 2000]

Prints a Markdown table (requests per second of one Python thread, SQLite).
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


async def rate(app: Any, path: str, query: bytes, n: int) -> float:
    for _ in range(50):
        assert await call(app, path, query) == 200
    started = time.perf_counter()
    for _ in range(n):
        await call(app, path, query)
    return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    print("| fast path | read cache | code req/s | query req/s |")
    print("|---|---|---|---|")
    for fast in (False, True):
        for ttl in (0.0, 0.1):
            with tempfile.TemporaryDirectory() as tmp:
                config = MockConfig(
                    db_url=f"sqlite:///{tmp}/b.db", fast_path=fast, read_cache_ttl=ttl
                )
                runtime = build_runtime(config)
                app = create_app(runtime=runtime)
                rates = [asyncio.run(rate(app, p, q, args.requests)) for p, q in ROUTES.values()]
                runtime.engine.dispose()
            on = {True: "on", False: "off"}
            print(f"| {on[fast]} | {on[ttl > 0]} | {rates[0]:,.0f} | {rates[1]:,.0f} |")


if __name__ == "__main__":
    main()
