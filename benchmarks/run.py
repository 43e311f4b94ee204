"""The mock's speed on the work partners' load tests do, side by side with Stoplight Prism in
the same run.

    python benchmarks/run.py              # full run (~4 minutes), rewrites docs/benchmarks.md
    python benchmarks/run.py --quick      # short wrk runs, for a smoke check
    python benchmarks/run.py --no-write   # print the Markdown only

Installs what is missing: wrk (``apt-get install -y wrk``) and Prism (``npm install --prefix
benchmarks/.prism @stoplight/prism-cli``, gitignored). Each server runs pinned to CPU 0
(``taskset -c 0``), wrk to CPU 1 (``taskset -c 1``), 16 connections. Measured:

* the checkout flow (``benchmarks/checkout.lua``): every customer new, each connection
  issuing a code, validating it, redeeming it with the val_key it got, then querying the
  customer's redemptions; on SQLite with an offer pool of 100,000 codes, on PostgreSQL, and
  against Prism (the same requests, answered from the spec's examples); then pools of 2,000
  and 100,000 codes side by side (two servers, alternating runs of 1 s, each after a reset);
* the docs' Code Query example (user ``ABC123``, answered with error 201 beside its data),
  repeated;
* the Code API read of a known customer (``GET /code`` with the same ``uid``), repeated.

Every row counts the answers that were not the expected success (non-2xx, or a business
failure), and the ratio to Prism's requests/s on the same requests. The section between the
``mock-bench`` markers in docs/benchmarks.md is replaced; everything else is kept.
"""

from __future__ import annotations

import argparse
import compileall
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

from uniqodo_mock.serving import free_port

ROOT = Path(__file__).resolve().parents[1]
PRISM_DIR = ROOT / "benchmarks" / ".prism"
PRISM = PRISM_DIR / "node_modules" / ".bin" / "prism"
FLOW = ROOT / "benchmarks" / "checkout.lua"
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- mock-bench:start -->", "<!-- mock-bench:end -->"
PG_ADMIN = os.environ.get("UNIQODO_MOCK_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")

KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"
UUID = "0821f4190897965c33eaca7954db5f23"
DOCS_QUERY = f"/publisher/{KEY}/query/user-redemption/{UUID}?userId=ABC123"
REPEATED_READ = f"/code/{KEY}/4883?uid=bench@example.com"
CONNECTIONS = 16


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


def pool_fixtures(folder: Path, pool: int) -> Path:
    """The default fixtures with offer 4883's pool at ``pool`` codes."""
    document = yaml.safe_load((ROOT / "fixtures" / "default.yaml").read_text())
    for offer in document["offers"]:
        if offer["id"] == 4883:
            offer["pool"] = {"generate": pool, "length": 10}
    path = folder / f"pool-{pool}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 300
    with httpx.Client(timeout=2) as probe:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{url}: the server exited with {process.returncode}")
            try:
                if probe.get(url).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
    raise RuntimeError(f"{url}: no answer within 300 s")


def start_mock(name: str, db: str, fixtures: Path) -> Server:
    port = free_port()
    command = ["taskset", "-c", "0", sys.executable, "-m", "uniqodo_mock", "serve"]
    command += ["--port", str(port), "--db", db, "--fixtures", str(fixtures), "--no-callbacks"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    _wait_ready(url + "/__admin/health", process)
    return Server(name, url, process)


def start_prism() -> Server:
    port = free_port()
    command = ["taskset", "-c", "0", str(PRISM), "mock", str(ROOT / "openapi" / "uniqodo.yaml")]
    command += ["--errors=false", "-v", "silent", "--port", str(port), "--host", "127.0.0.1"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    _wait_ready(url + REPEATED_READ, process)
    return Server("Prism (examples)", url, process)


def new_pg_database() -> str:
    import psycopg

    name = f"uqm_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + "/" + name


def drop_pg_database(url: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    failures: int | None  # business failures counted by the flow script

    @property
    def flows_per_s(self) -> float:
        return self.rps / 4


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(url: str, seconds: float, *, flow: bool) -> Result:
    threads = CONNECTIONS if flow else 1
    command = ["taskset", "-c", "1", "wrk", f"-t{threads}", f"-c{CONNECTIONS}"]
    command += [f"-d{max(1, round(seconds))}s", "--latency"]
    if flow:
        command += ["-s", str(FLOW)]
    env = {**os.environ, "FLOW_RUN": uuid.uuid4().hex[:8]}
    out = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, env=env
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: .*", out)
    non_2xx = int(bad.group(1)) if bad else 0
    if socket_errors:
        non_2xx += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(0)))
    failures = re.search(r"FLOW failures=(\d+)", out)
    return Result(rps, p50, p99, requests, non_2xx, int(failures.group(1)) if failures else None)


@dataclass
class Row:
    scenario: str
    server: str
    result: Result
    prism: Result | None = None


def measure_flow(server: Server, seconds: float, warm_up: float = 2) -> Result:
    run_wrk(server.url, warm_up, flow=True)  # first statements, first pages of the pool
    return run_wrk(server.url, seconds, flow=True)


# Alternating runs per pool size (1 s each, after a reset of the server's state).
POOL_ROUNDS = 7


def measure_pools(servers: dict[int, Server], rounds: int) -> dict[int, Result]:
    """The flow on each server in turn, ``rounds`` runs of 1 s each, every run after a reset;
    the run of median flows/s per server. The servers are stopped."""
    runs: dict[int, list[Result]] = {size: [] for size in servers}
    try:
        for server in servers.values():
            run_wrk(server.url, 1, flow=True)  # first statements, first pages of the pool
        for number in range(rounds):
            print(f"pool sizes side by side, round {number + 1}/{rounds}", file=sys.stderr)
            for size, server in servers.items():
                httpx.post(server.url + "/__admin/reset", timeout=60).raise_for_status()
                runs[size].append(run_wrk(server.url, 1, flow=True))
    finally:
        for server in servers.values():
            server.stop()
    return {
        size: sorted(results, key=lambda r: r.flows_per_s)[len(results) // 2]
        for size, results in runs.items()
    }


def measure_url(server: Server, path: str, seconds: float) -> Result:
    httpx.get(server.url + path, timeout=10)  # the first answer (an issue, for the read)
    run_wrk(server.url + path, 1, flow=False)
    return run_wrk(server.url + path, seconds, flow=False)


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
    from importlib.metadata import version

    import connexion  # noqa: F401
    import sqlalchemy
    import uvicorn

    return (
        f'nproc={os.cpu_count()}, CPU "{cpu}", {platform.system()} {platform.release()}, '
        f"Python {platform.python_version()}, connexion {version('connexion')}, "
        f"uvicorn {uvicorn.__version__}, SQLAlchemy {sqlalchemy.__version__}, Prism {prism}, "
        f"{wrk_version}; load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


def render(rows: list[Row], seconds: float, info: str, pools: tuple[Result, Result]) -> str:
    lines = [
        START,
        "## The mock beside Prism (same run)",
        "",
        f"Command: `.venv/bin/python benchmarks/run.py` (wrk, {CONNECTIONS} connections, "
        f"{seconds:g} s per row after a warm-up, pinned to CPU 1; each server pinned to CPU 0; "
        "`serve --no-callbacks` on a SQLite file in a temporary directory unless the row says "
        "PostgreSQL).",
        "",
        f"Machine: {info}.",
        "",
        "| scenario | server | req/s | p50 ms | p99 ms | not the expected answer | vs Prism |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        r = row.result
        missed = r.non_2xx + (r.failures or 0)
        ratio = f"{r.rps / row.prism.rps:.2f}x" if row.prism else "-"
        lines.append(
            f"| {row.scenario} | {row.server} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | "
            f"{missed} of {r.requests:,} | {ratio} |"
        )
    large, small = pools
    lines += [
        "",
        f"Pool sizes side by side (a server for each; {POOL_ROUNDS} runs of 1 s each, "
        "alternating, every run after `POST /__admin/reset`, which fills the pools again; the "
        f"median run of each): {large.flows_per_s:,.0f} flows/s at a 100,000-code pool, "
        f"{small.flows_per_s:,.0f} at a 2,000-code pool "
        f"({large.flows_per_s / small.flows_per_s:.2f}x the small pool's rate). The table's "
        "2,000-code row is its median run.",
        "",
        "Scenarios: the **checkout flow** is `benchmarks/checkout.lua` (each connection: a code "
        "for a new customer → validate it → redeem it with the val_key it got → query the "
        "customer's redemptions; four requests per flow; one wrk thread per connection). The "
        "**docs' Code Query example** is `GET /publisher/{key}/query/user-redemption/{uuid}"
        "?userId=ABC123` (its answer carries error 201 beside the data). The **repeated Code "
        "API read** is `GET /code/{key}/4883?uid=bench@example.com` after that customer's "
        "first code. Prism answers every request from the spec's examples and keeps no state.",
        "",
        '"Not the expected answer" counts non-2xx answers and socket errors, and in the flow '
        "rows also answers whose envelope was not the success a flow expects (for Prism: its "
        "examples do not follow one customer).",
        "",
        "Caveat: this machine has 2 CPUs, shared with other jobs when these figures were "
        "taken; compare the rows with each other (same run), not with other runs.",
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
    parser.add_argument("--seconds", type=float, default=10, help="wrk duration per row")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL row")
    parser.add_argument("--no-write", action="store_true", help="print, do not touch the docs")
    args = parser.parse_args()
    seconds = 3 if args.quick else args.seconds
    ensure_tools()
    # As a wheel install is (pip compiles its bytecode).
    compileall.compile_dir(ROOT / "src", quiet=1)
    info = machine()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        large = pool_fixtures(tmp, 100_000)
        small = pool_fixtures(tmp, 2_000)

        print("Prism...", file=sys.stderr)
        prism = start_prism()
        try:
            prism_flow = measure_flow(prism, seconds)
            prism_docs = measure_url(prism, DOCS_QUERY, seconds)
            prism_read = measure_url(prism, REPEATED_READ, seconds)
        finally:
            prism.stop()

        print("mock, SQLite, 100,000-code pool...", file=sys.stderr)
        mock = start_mock("uniqodo-mock (SQLite)", f"sqlite:///{tmp}/large.db", large)
        try:
            flow_large = measure_flow(mock, seconds)
            docs = measure_url(mock, DOCS_QUERY, seconds)
            read = measure_url(mock, REPEATED_READ, seconds)
        finally:
            mock.stop()

        # The two pool sizes side by side: a server for each, alternating short runs, each
        # run after a reset (POST /__admin/reset: every pool full again), so that the
        # 2,000-code pool never runs out; the median run of each size is compared.
        pools = measure_pools(
            {
                2_000: start_mock("uniqodo-mock (SQLite)", f"sqlite:///{tmp}/pool-2000.db", small),
                100_000: start_mock(
                    "uniqodo-mock (SQLite)", f"sqlite:///{tmp}/pool-100000.db", large
                ),
            },
            POOL_ROUNDS,
        )
        flow_small = pools[2_000]

        rows += [
            Row("checkout flow, 100,000-code pool", mock.name, flow_large, prism_flow),
            Row("checkout flow, 2,000-code pool", mock.name, flow_small, prism_flow),
        ]
        if not args.no_postgres:
            print("mock, PostgreSQL...", file=sys.stderr)
            pg = new_pg_database()
            try:
                mock = start_mock("uniqodo-mock (PostgreSQL)", pg, large)
                try:
                    rows.append(
                        Row(
                            "checkout flow, 100,000-code pool",
                            mock.name,
                            measure_flow(mock, seconds),
                            prism_flow,
                        )
                    )
                finally:
                    mock.stop()
            finally:
                drop_pg_database(pg)
        rows += [
            Row("checkout flow", "Prism (examples)", prism_flow),
            Row("docs' Code Query example (error 201)", "uniqodo-mock (SQLite)", docs, prism_docs),
            Row("docs' Code Query example", "Prism (examples)", prism_docs),
            Row("repeated Code API read", "uniqodo-mock (SQLite)", read, prism_read),
            Row("repeated Code API read", "Prism (examples)", prism_read),
        ]
    section = render(rows, seconds, info, (pools[100_000], pools[2_000]))
    print(section)
    if not args.no_write:
        write_doc(section)
        print(f"wrote {DOC.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
