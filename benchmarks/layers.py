"""What each layer of the mock's middleware list costs a kept answer, in process.

    python benchmarks/layers.py [--requests 3000] [--rounds 5]

For each layer that can be left out without changing the answer, the app is built again without
it (``app.middleware.middlewares`` before its first request) and a known customer's
``GET /code`` is timed as ``benchmarks/inprocess.py`` times it (CPU microseconds per request,
best of the rounds). A layer's cost is the difference from the whole list. Measurement only:
without them the mock would lose CORS, the journal, fault rules and so on.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from functools import partial
from typing import Any

from inprocess import CODE, per_request

from uniqodo_mock.mock.app import create_app
from uniqodo_mock.mock.runtime import MockConfig

# The router, the parameter checks and the handler: without them there is no answer to time.
ESSENTIAL = {
    "RoutingMiddleware",
    "RequestValidationMiddleware",
    "VendorOperations",
    "LifespanMiddleware",
    "ContextMiddleware",
}


def layer_name(middleware: Any) -> str:
    target = middleware.func if isinstance(middleware, partial) else middleware
    return str(target.__name__)


async def cost(folder: str, without: str | None, requests: int, rounds: int) -> float:
    app = create_app(
        MockConfig(db_url=f"sqlite:///{folder}/{without or 'all'}.db", dispatch_callbacks=False)
    )
    try:
        if without is not None:
            app.middleware.middlewares = [
                m for m in app.middleware.middlewares if layer_name(m) != without
            ]
        return await per_request(app, requests, rounds, CODE)
    finally:
        app.runtime.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        probe = create_app(MockConfig(db_url=f"sqlite:///{folder}/probe.db"))
        names = [layer_name(m) for m in probe.middleware.middlewares]
        probe.runtime.close()
        whole = await cost(folder, None, args.requests, args.rounds)
        print("| layer left out | CPU µs per request | the layer's cost |")
        print("|---|---|---|")
        print(f"| none (the whole list) | {whole:.1f} | - |")
        for name in names:
            if name in ESSENTIAL:
                continue
            without = await cost(folder, name, args.requests, args.rounds)
            print(f"| {name} | {without:.1f} | {whole - without:.1f} |")


if __name__ == "__main__":
    asyncio.run(main())
