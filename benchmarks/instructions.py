"""CPU instructions per request of the hot routes, counted by valgrind (callgrind).

    python benchmarks/instructions.py [--requests 1000]

Wall-clock figures on a shared 2-core machine move by tens of percent from one minute to the
next; an instruction count does not (callgrind counts the same total for the same program and
input whatever else runs). Each route is called in process through the whole ASGI app (as
``benchmarks/inprocess.py`` does, SQLite in a temporary directory), with the read memo on and
off; instrumentation is switched on only around the timed requests (``callgrind_control``), so
start-up and warm-up are not counted. The callback dispatcher is off and the read cache's ttl
is 5 s: callgrind runs the program ~50x slower, and time-based refreshes would otherwise run
50x as often per request as in a real server. Prints a Markdown table (thousands of
instructions per request). Needs ``valgrind`` (Debian's package).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def child(sync_dir: Path, route: str, requests: int, read_memo: bool) -> None:
    """Runs under valgrind: warm up, signal, wait for instrumentation, run, signal."""
    sys.path.insert(0, str(HERE))
    from inprocess import ROUTES, call  # the same requests as the in-process benchmark

    from uniqodo_mock.mock.app import create_app
    from uniqodo_mock.mock.runtime import MockConfig, build_runtime

    async def main() -> None:
        config = MockConfig(
            db_url=f"sqlite:///{sync_dir / 'bench.db'}",
            dispatch_callbacks=False,
            read_cache_ttl=5.0,
            read_memo=read_memo,
        )
        app = create_app(runtime=build_runtime(config))
        path, query = ROUTES[route]
        assert await call(app, *ROUTES["code"]) == 200  # the customer holds a code
        for _ in range(200):
            assert await call(app, path, query) == 200
        (sync_dir / "ready").touch()
        while not (sync_dir / "go").exists():
            time.sleep(0.05)
        for _ in range(requests):
            await call(app, path, query)
        (sync_dir / "done").touch()
        while (sync_dir / "go").exists():
            time.sleep(0.05)

    asyncio.run(main())


def _wait_for(path: Path, process: subprocess.Popen[bytes]) -> None:
    while not path.exists():
        if process.poll() is not None:
            raise RuntimeError(f"the measured process exited with {process.returncode}")
        time.sleep(0.1)


def count(route: str, requests: int, read_memo: bool) -> int:
    """Instructions per request."""
    with tempfile.TemporaryDirectory() as tmp:
        sync_dir = Path(tmp)
        out = sync_dir / "callgrind.out"
        command = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}",
            sys.executable,
            __file__,
            "--child",
            str(sync_dir),
            route,
            str(requests),
            "on" if read_memo else "off",
        ]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_for(sync_dir / "ready", process)
            subprocess.run(
                ["callgrind_control", "-i", "on", str(process.pid)], check=True, capture_output=True
            )
            (sync_dir / "go").touch()
            _wait_for(sync_dir / "done", process)
            subprocess.run(
                ["callgrind_control", "-i", "off", str(process.pid)],
                check=True,
                capture_output=True,
            )
            (sync_dir / "go").unlink()
            process.wait(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
        totals = re.search(r"^totals:\s+(\d+)", out.read_text(), re.MULTILINE)
        if totals is None:
            raise RuntimeError("callgrind wrote no totals")
        return int(totals.group(1)) // requests


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5] == "on")
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="requests counted per row")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    print("| route | read memo | thousand instructions per request |")
    print("|---|---|---|")
    for route in ("code", "query"):
        for read_memo in (True, False):
            per_request = count(route, args.requests, read_memo)
            state = "on" if read_memo else "off"
            print(f"| {route} | {state} | {per_request / 1000:,.0f} |", flush=True)


if __name__ == "__main__":
    main()
