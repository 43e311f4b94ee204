"""The mock's speed, side by side with Stoplight Prism in the same run.

    python benchmarks/run.py            # full run (~2 minutes), rewrites docs/benchmarks.md
    python benchmarks/run.py --quick    # short wrk runs, for a smoke check
    python benchmarks/run.py --no-write # print the Markdown only

Installs what is missing: wrk (``apt-get install -y wrk``) and Prism
(``npm install --prefix benchmarks/.prism @stoplight/prism-cli``, gitignored). Each server runs
pinned to CPU 0 (``taskset -c 0``), wrk to CPU 1 (``taskset -c 1``, ``-t1 -c50``). Measured:

* throughput and p50/p99 latency of ``GET /code/…?uid=`` (a repeat uid) and of the publisher
  query, for the mock with 1 worker (with and without ``--no-read-memo``), with
  ``--workers 2``, and for Prism serving the same
  ``openapi/uniqodo.yaml`` from its examples (``--errors=false``, logging off);
* a redemption burst: 50 concurrent redemptions of one single-use code (exactly one success);
* start-up time to the first answer; resident memory idle and under load.

The section between the ``mock-bench`` markers in docs/benchmarks.md is replaced; everything
else (the receiver's section) is kept.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from uniqodo_mock.serving import free_port

ROOT = Path(__file__).resolve().parents[1]
PRISM_DIR = ROOT / "benchmarks" / ".prism"
PRISM = PRISM_DIR / "node_modules" / ".bin" / "prism"
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- mock-bench:start -->", "<!-- mock-bench:end -->"

KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"
UUID = "0821f4190897965c33eaca7954db5f23"
ROUTES = {
    "code": f"/code/{KEY}/4883?uid=bench@example.com",
    "query": f"/publisher/{KEY}/query/user-redemption/{UUID}?userId=bench@example.com",
}


def ensure_tools() -> None:
    if not shutil.which("wrk"):
        print("installing wrk (apt-get install -y wrk)", file=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True)
    if not PRISM.exists():
        print("installing Prism into benchmarks/.prism (npm)", file=sys.stderr)
        subprocess.run(
            ["npm", "install", "--prefix", str(PRISM_DIR), "@stoplight/prism-cli", "--no-audit"],
            check=True,
        )


def rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants (uvicorn workers), in KiB."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    startup_s: float

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def _wait_first_answer(url: str, process: subprocess.Popen[bytes], started: float) -> float:
    with httpx.Client(timeout=2) as probe:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{url}: the server exited with {process.returncode}")
            try:
                if probe.get(url).status_code == 200:
                    return time.perf_counter() - started
            except httpx.HTTPError:
                pass
            if time.perf_counter() - started > 120:
                raise RuntimeError(f"{url}: no answer within 120 s")
            time.sleep(0.005)


def start_mock(db: str, workers: int, read_memo: bool = True) -> Server:
    port = free_port()
    command = ["taskset", "-c", "0", sys.executable, "-m", "uniqodo_mock", "serve"]
    command += ["--port", str(port), "--db", db, "--workers", str(workers)]
    if not read_memo:
        command.append("--no-read-memo")
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    startup = _wait_first_answer(url + ROUTES["code"], process, started)
    name = f"uniqodo-mock ({workers} worker{'s' if workers > 1 else ''}"
    name += ")" if read_memo else ", read memo off)"
    return Server(name, url, process, startup)


def start_prism() -> Server:
    port = free_port()
    command = ["taskset", "-c", "0", str(PRISM), "mock", str(ROOT / "openapi" / "uniqodo.yaml")]
    command += ["--errors=false", "-v", "silent", "--port", str(port), "--host", "127.0.0.1"]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    startup = _wait_first_answer(url + ROUTES["code"], process, started)
    return Server("Prism (examples)", url, process, startup)


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(url: str, seconds: int) -> WrkResult:
    out = subprocess.run(
        ["taskset", "-c", "1", "wrk", "-t1", "-c50", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: .*", out)
    errors = int(bad.group(1)) if bad else 0
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(0)))
    return WrkResult(rps, p50, p99, requests, errors)


def measure(server: Server, seconds: int) -> dict[str, object]:
    idle = rss_kib(server.process.pid)
    peak = [idle]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            peak[0] = max(peak[0], rss_kib(server.process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    results = {route: run_wrk(server.url + path, seconds) for route, path in ROUTES.items()}
    done.set()
    sampler.join()
    return {"results": results, "idle_kib": idle, "load_kib": peak[0]}


async def _burst(url: str) -> tuple[int, int, float]:
    path = f"/redeem/{KEY}/AB12E3GH/1?orderValue=20&orderId="
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=60)) as client:
        started = time.perf_counter()
        answers = await asyncio.gather(*(client.get(f"{url}{path}burst{i}") for i in range(50)))
        elapsed = time.perf_counter() - started
    bodies = [a.json() for a in answers]
    ok = sum(1 for b in bodies if b["result"] == "success")
    already = sum(1 for b in bodies if b["errors"] and b["errors"][0]["code"] == 201)
    return ok, already, elapsed


def machine() -> str:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    prism = subprocess.run([str(PRISM), "--version"], capture_output=True, text=True).stdout.strip()
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    wrk_version = (wrk.stdout or wrk.stderr).split("\n", 1)[0].strip()
    load = os.getloadavg()
    import sqlalchemy
    import uvicorn

    return (
        f'nproc={os.cpu_count()}, CPU "{cpu}", {platform.system()} {platform.release()}, '
        f"Python {platform.python_version()}, uvicorn {uvicorn.__version__}, "
        f"SQLAlchemy {sqlalchemy.__version__}, Prism {prism}, {wrk_version}; "
        f"load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


def render(
    rows: list[tuple[Server, dict[str, object]]],
    burst: tuple[int, int, float],
    seconds: int,
    info: str,
) -> str:
    lines = [
        START,
        "## Mock vs Prism (same run)",
        "",
        "Command: `.venv/bin/python benchmarks/run.py` "
        f"(wrk `-t1 -c50 -d{seconds}s --latency`, pinned to CPU 1; each server pinned to CPU 0; "
        "SQLite database in a temporary directory).",
        "",
        f"Machine: {info}.",
        "",
        "| Server | route | req/s | p50 ms | p99 ms | non-2xx/socket errors | start-up s | RSS idle MiB | RSS under load MiB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for server, measured in rows:
        results = measured["results"]
        assert isinstance(results, dict)
        for route, result in results.items():
            lines.append(
                f"| {server.name} | {route} | {result.rps:,.0f} | {result.p50_ms:.2f} | "
                f"{result.p99_ms:.2f} | {result.errors} | {server.startup_s:.2f} | "
                f"{int(measured['idle_kib']) / 1024:.0f} | {int(measured['load_kib']) / 1024:.0f} |"
            )
    ok, already, elapsed = burst
    lines += [
        "",
        "Routes: `code` = `GET /code/{key}/4883?uid=bench@example.com` (the same uid every time: "
        "after the first request the mock looks the customer's code up); `query` = "
        "`GET /publisher/{key}/query/user-redemption/{uuid}?userId=bench@example.com`. With the "
        "read memo (the default) each request checks the database's data version and reuses "
        "the answer while nothing was committed; `read memo off` computes every answer. Prism "
        "answers both from the spec's examples and keeps no state.",
        "",
        f"Redemption burst (1 worker, SQLite): 50 concurrent redemptions of one single-use code "
        f"gave **{ok} success and {already} x error 201** in {elapsed * 1000:.0f} ms.",
        "",
        "Start-up = from process spawn to the first 200 on the `code` route (the mock migrates "
        "the database and loads fixtures first; the package's bytecode compiled beforehand, as "
        "`pip install` does). RSS includes worker processes.",
        "",
        "Caveat: this machine has 2 CPUs shared with other jobs while these figures were taken; "
        "compare the rows with each other (same run), not with other runs.",
        END,
    ]
    return "\n".join(lines) + "\n"


def write_doc(section: str) -> None:
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1]
        text = before + section.rstrip("\n") + after
    else:
        head, sep, tail = text.partition("\n## ")
        text = head.rstrip("\n") + "\n\n" + section + ("\n## " + tail if sep else "")
    DOC.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3-second wrk runs")
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per route")
    parser.add_argument("--workers", type=int, default=2, help="the multi-worker row's --workers")
    parser.add_argument("--no-write", action="store_true", help="print, do not touch the docs")
    args = parser.parse_args()
    seconds = 3 if args.quick else args.seconds
    ensure_tools()
    # As a wheel install is (pip compiles its bytecode): with PYTHONDONTWRITEBYTECODE set, an
    # editable checkout would compile its sources at every start (benchmarks/startup.py).
    compileall.compile_dir(ROOT / "src", quiet=1)
    info = machine()
    rows: list[tuple[Server, dict[str, object]]] = []
    burst = (0, 0, 0.0)
    with tempfile.TemporaryDirectory() as tmp:
        for workers, read_memo in ((1, True), (1, False), (args.workers, True)):
            db = f"sqlite:///{tmp}/bench-{workers}-{read_memo}.db"
            print(f"mock, {workers} worker(s), read memo {read_memo}...", file=sys.stderr)
            server = start_mock(db, workers, read_memo)
            try:
                rows.append((server, measure(server, seconds)))
                if workers == 1 and read_memo:
                    burst = asyncio.run(_burst(server.url))
            finally:
                server.stop()
        print("Prism...", file=sys.stderr)
        prism = start_prism()
        try:
            rows.append((prism, measure(prism, seconds)))
        finally:
            prism.stop()
    section = render(rows, burst, seconds, info)
    print(section)
    if not args.no_write:
        write_doc(section)
        print(f"wrote {DOC.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
