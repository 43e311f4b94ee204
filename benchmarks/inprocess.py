"""Where a vendor request's microseconds go, in process (the ASGI app called directly, no HTTP).

    python benchmarks/inprocess.py [--requests 3000] [--rounds 3]

Rows, CPU microseconds per request (``time.process_time()``, the best of ``--rounds`` rounds:
other jobs on a shared machine slow a round down, never speed it up), SQLite in a temporary
directory:

* connexion's AsyncApp with its default middlewares and parameter validation over
  ``openapi/uniqodo.yaml``, each operation a trivial async handler returning a prepared body:
  what the framework costs by itself;
* the mock's own middleware list and validators (``mock/app.py``) with a handler that returns
  a prepared answer: the request path without the service;
* the mock answering a kept answer (a known customer's ``GET /code``; the docs' Code Query
  example);
* the checkout flow (a new customer's code, validate, redeem with its val_key, the query): a
  request's mean over the four steps.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

import connexion
import orjson
from connexion.resolver import Resolver
from starlette.responses import Response

from uniqodo_mock.mock.answer import Answer, envelope_headers
from uniqodo_mock.mock.app import create_app
from uniqodo_mock.mock.runtime import MockConfig
from uniqodo_mock.specs import load_spec

KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"
PROMOTION = "0821f4190897965c33eaca7954db5f23"
BODY = b'{"data":{"code":"X"},"errors":[],"result":"success"}'
CODE = (f"/code/{KEY}/4883", b"uid=bench@example.com")
QUERY = (f"/publisher/{KEY}/query/user-redemption/{PROMOTION}", b"userId=ABC123")

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


async def call(app: App, path: str, query: bytes) -> tuple[int, bytes]:
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
    answer: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        else:
            answer["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return answer["status"], answer["body"]


def connexion_defaults() -> App:
    class Handlers:
        def __getattr__(self, _name: str) -> Any:
            async def handler(*_args: Any, **_kwargs: Any) -> Response:
                return Response(BODY, media_type="application/json")

            return handler

    handlers = Handlers()
    app = connexion.AsyncApp(__name__)
    app.add_api(
        copy.deepcopy(load_spec("uniqodo.yaml")),
        base_path="",
        resolver=Resolver(function_resolver=lambda op: getattr(handlers, op.rpartition(".")[2])),
    )
    return app


def mock_app(folder: str, *, prepared: bool) -> App:
    app = create_app(MockConfig(db_url=f"sqlite:///{folder}/bench.db", dispatch_callbacks=False))
    if prepared:
        ready = Answer(200, BODY, envelope_headers(BODY))

        async def answer(*_args: Any, **_kwargs: Any) -> Answer:
            return ready

        app.vendor_api.answer = answer  # type: ignore[method-assign]
    return app


async def per_request(app: App, requests: int, rounds: int, route: tuple[str, bytes]) -> float:
    for _ in range(200):
        await call(app, *route)
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(requests):
            await call(app, *route)
        best = min(best, (time.process_time() - started) / requests)
    return best * 1e6


async def flow_per_request(app: App, flows: int, rounds: int) -> float:
    number = 0

    async def one() -> None:
        nonlocal number
        number += 1
        uid = f"flow-{number}@bench.example".encode()
        _, body = await call(app, f"/code/{KEY}/4883", b"uid=" + uid)
        code = orjson.loads(body)["data"]["code"]
        _, body = await call(app, f"/validate/{KEY}/{code}/1", b"email=" + uid)
        val_key = orjson.loads(body)["data"]["val_key"].encode()
        _, body = await call(
            app,
            f"/redeem/{KEY}/{code}/1",
            b"orderId=o%d&orderValue=42.50&valKey=%s" % (number, val_key),
        )
        assert orjson.loads(body)["result"] == "success"
        await call(app, f"/publisher/{KEY}/query/user-redemption/{PROMOTION}", b"userId=" + uid)

    for _ in range(30):
        await one()
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(flows):
            await one()
        best = min(best, (time.process_time() - started) / (flows * 4))
    return best * 1e6


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        defaults = connexion_defaults()
        rows.append(("connexion defaults, trivial handler (GET /code)", 0.0))
        rows[-1] = (rows[-1][0], await per_request(defaults, args.requests, args.rounds, CODE))
        prepared = mock_app(folder, prepared=True)
        rows.append(
            (
                "the mock's request path, prepared answer (GET /code)",
                await per_request(prepared, args.requests, args.rounds, CODE),
            )
        )
        prepared.runtime.close()  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory() as folder:
        mock = mock_app(folder, prepared=False)
        rows.append(
            (
                "the mock, a kept answer (GET /code, known customer)",
                await per_request(mock, args.requests, args.rounds, CODE),
            )
        )
        rows.append(
            (
                "the mock, a kept answer (docs' Code Query example)",
                await per_request(mock, args.requests, args.rounds, QUERY),
            )
        )
        rows.append(
            (
                "the mock, checkout flow (mean of its four requests)",
                await flow_per_request(mock, max(50, args.requests // 10), args.rounds),
            )
        )
        mock.runtime.close()  # type: ignore[attr-defined]
    print("| in process | CPU µs per request |")
    print("|---|---|")
    for name, micros in rows:
        print(f"| {name} | {micros:,.0f} |")


if __name__ == "__main__":
    asyncio.run(main())
