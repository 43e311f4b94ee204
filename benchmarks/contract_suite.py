"""Wall time of the full contract suite against the mock: in process (ASGI, the project's own
``tests/contract/test_contract_in_process.py``) and over HTTP (``uniqodo-mock contract``
against a ``uniqodo-mock serve`` subprocess on a fresh SQLite database).

    .venv/bin/python benchmarks/contract_suite.py [--max-examples 20] [--seed 1]

Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from uniqodo_mock.serving import free_port, wait_healthy

ROOT = Path(__file__).resolve().parents[1]


def _in_process() -> tuple[float, str]:
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "tests/contract/test_contract_in_process.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    summary = (out.stdout.strip().splitlines() or ["?"])[-1]
    return elapsed, summary


def _over_http(max_examples: int, seed: int) -> tuple[float, str]:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        serve = subprocess.Popen(
            [
                *(sys.executable, "-m", "uniqodo_mock", "serve", "--port", str(port)),
                *("--db", f"sqlite:///{Path(tmp) / 's.db'}"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_healthy(f"{url}/__admin/health", process=serve, timeout=30)
            started = time.perf_counter()
            out = subprocess.run(
                [
                    *(sys.executable, "-m", "uniqodo_mock", "contract", "--base-url", url),
                    *("--seed", str(seed), "--max-examples", str(max_examples)),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            elapsed = time.perf_counter() - started
        finally:
            serve.terminate()
            serve.wait(15)
    cases = re.search(r"(\d+) generated", out.stdout)
    return elapsed, f"exit {out.returncode}, {cases.group(1) if cases else '?'} test cases"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    in_proc, in_summary = _in_process()
    http, http_summary = _over_http(args.max_examples, args.seed)
    print("| Run | wall time | result |")
    print("|---|---|---|")
    print(f"| in process (ASGI, pytest) | {in_proc:.1f} s | {in_summary} |")
    print(
        f"| over HTTP (`uniqodo-mock contract`, max-examples {args.max_examples}) "
        f"| {http:.1f} s | {http_summary} |"
    )


if __name__ == "__main__":
    main()
