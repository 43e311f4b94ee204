"""Receiver ingest rate: form callbacks POSTed by wrk at concurrency 50, every one stored?

    python benchmarks/receiver_ingest.py --db sqlite:///tmp/bench.db
    python benchmarks/receiver_ingest.py --db postgresql+psycopg://postgres@127.0.0.1:5432/bench

The receiver runs as a subprocess pinned to CPU 0 (``taskset -c 0``), wrk to CPU 1. After the
timed run the stored rows are counted and compared with wrk's completed requests (rows may
exceed it: requests in flight when wrk stops are stored but not counted by wrk). Then exactly
``--exact`` callbacks are posted at the same concurrency (httpx) and all must be stored.
Prints a Markdown table row for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from uniqodo_mock.serving import free_port

LUA = r"""
counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["X-Uniqodo-Delivery-Id"] = "bench"
request = function()
  counter = counter + 1
  local body = "id=" .. counter .. "&offerId=1256&merchantId=56&distributorId=23&code=XY23T4DF"
    .. "&orderValue=219.99&orderId=ORD" .. counter .. "&currency=USD"
    .. "&redeemedAt=2015-05-29T10%3A39%3A17%2B0000"
  return wrk.format(nil, "/hook", nil, body)
end
"""


def start_receiver(db: str, port: int) -> subprocess.Popen[bytes]:
    command = [
        "taskset",
        "-c",
        "0",
        sys.executable,
        "-m",
        "uniqodo_mock",
        "receiver",
        "--port",
        str(port),
        "--db",
        db,
    ]
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/__receiver/health").status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("receiver did not start")


def run_wrk(url: str, duration: int, connections: int) -> tuple[int, int, str]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(LUA)
    out = subprocess.run(
        [
            "taskset",
            "-c",
            "1",
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-s",
            script.name,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script.name)
    completed = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return completed, int(non2xx.group(1)) if non2xx else 0, (errors.group(1) if errors else "")


async def post_exact(url: str, total: int, concurrency: int) -> int:
    ok = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:

        async def worker() -> None:
            nonlocal ok
            while not queue.empty():
                i = queue.get_nowait()
                answer = await client.post(
                    "/exact",
                    content=f"code=EX{i}&orderId={i}",
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
                ok += answer.status_code == 204

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=f"sqlite:///{tempfile.mkdtemp()}/bench.db")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--exact", type=int, default=5000)
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start_receiver(args.db, port)
    try:
        httpx.delete(f"{url}/__receiver/calls")
        started = time.monotonic()
        completed, non2xx, errors = run_wrk(url, args.duration, args.connections)
        elapsed = time.monotonic() - started
        stored = httpx.get(f"{url}/__receiver/calls/count", params={"path": "/hook"}).json()[
            "count"
        ]
        ok = asyncio.run(post_exact(url, args.exact, args.connections))
        exact_stored = httpx.get(f"{url}/__receiver/calls/count", params={"path": "/exact"}).json()[
            "count"
        ]
    finally:
        process.terminate()
        process.wait(10)
    backend = "PostgreSQL" if args.db.startswith("postgres") else "SQLite"
    print(
        f"wrk: {completed} completed in ~{elapsed:.1f}s, non-2xx {non2xx}, socket errors: "
        f"{errors or 'none'}; stored {stored}"
    )
    print(f"exact: {ok}/{args.exact} answered 204, {exact_stored} stored")
    lost = max(0, completed - non2xx - stored)
    print(
        f"| {backend} | {completed / args.duration:,.0f} | {completed} | {stored} | {lost} "
        f"| {exact_stored}/{args.exact} |"
    )
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    print(f"machine: nproc={os.cpu_count()}, CPU: {cpu}, Python {platform.python_version()}")
    if lost or exact_stored != args.exact:
        raise SystemExit("LOSS: some acknowledged calls are not stored")


if __name__ == "__main__":
    main()
