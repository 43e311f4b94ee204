"""Start-up of ``uniqodo-mock serve``: process spawn to the first 200 on the ``code`` route.

    python benchmarks/startup.py                      # 7 rounds, new and existing database
    python benchmarks/startup.py --workers 2          # the same with --workers 2
    python benchmarks/startup.py --compare OTHER/src  # A/B: this checkout vs another one's src/
    python benchmarks/startup.py --compare before=A/src --compare middle=B/src   # several

Measured as benchmarks/run.py measures its start-up column (``start_mock``: the server pinned to
CPU 0, a new SQLite file, polling ``GET /code/…?uid=bench@example.com`` every 5 ms). Each round
starts every variant once on a new database, then once more on the database it just made (an
existing database: migrations at head, fixtures already loaded); variants alternate within a round
so that the machine's noise falls on all of them alike. Prints min / median / max per variant of
the wall time and of the CPU time the server's processes had used by the first answer.

The package's bytecode is compiled first (``compileall``), as ``pip install`` does for a wheel:
with ``PYTHONDONTWRITEBYTECODE`` set (as on the machines these figures come from) an editable
checkout would otherwise compile its ~70 modules from source at every start (~0.15 s of CPU).
``--source-only`` skips that, to measure exactly that case.

``--compare`` runs a second variant with ``PYTHONPATH=OTHER/src``: the same interpreter and
installed dependencies, the other checkout's package (make one with ``git worktree add`` or
``git archive REV | tar -x -C DIR``).
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from uniqodo_mock.serving import free_port

SRC = Path(__file__).resolve().parents[1] / "src"
ROUTE = "/code/64a287ae534cf1bd58f45f3e23de9d433caec669/4883?uid=bench@example.com"


@dataclass
class Variant:
    name: str
    pythonpath: str | None
    new_db: list[float] = field(default_factory=list)
    existing_db: list[float] = field(default_factory=list)
    new_db_cpu: list[float] = field(default_factory=list)
    existing_db_cpu: list[float] = field(default_factory=list)


_TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and all its live descendants: less sensitive than
    wall time to other jobs on the machine (they delay the server, they do not add to its CPU)."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            stats[int(entry.name)] = fields
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        fields = stats.get(current)
        if fields:
            total += int(fields[11]) + int(fields[12])  # utime, stime (after the command name)
    return total / _TICK


def spawn_to_first_answer(db: str, workers: int, pythonpath: str | None) -> tuple[float, float]:
    """Seconds from spawning ``serve`` to its first 200, and the CPU seconds the server's
    processes had used by then; the server is stopped afterwards."""
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    port = free_port()
    command = ["taskset", "-c", "0", sys.executable, "-m", "uniqodo_mock", "serve"]
    command += ["--port", str(port), "--db", db, "--workers", str(workers)]
    url = f"http://127.0.0.1:{port}{ROUTE}"
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        with httpx.Client(timeout=2) as probe:
            while True:
                if process.poll() is not None:
                    stderr = process.stderr.read().decode() if process.stderr else ""
                    raise RuntimeError(f"serve exited with {process.returncode}: {stderr}")
                try:
                    if probe.get(url).status_code == 200:
                        return time.perf_counter() - started, tree_cpu_seconds(process.pid)
                except httpx.HTTPError:
                    pass
                if time.perf_counter() - started > 120:
                    raise RuntimeError("no answer within 120 s")
                time.sleep(0.005)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def summary(values: list[float]) -> str:
    return (
        f"min {min(values):.3f}  median {statistics.median(values):.3f}  "
        f"max {max(values):.3f} s  (n={len(values)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--compare",
        metavar="[LABEL=]SRC",
        action="append",
        default=[],
        help="another checkout's src/ folder (repeatable)",
    )
    parser.add_argument(
        "--source-only", action="store_true", help="do not compile the packages' bytecode first"
    )
    args = parser.parse_args()
    variants = [Variant("this checkout", None)]
    for other in args.compare:
        label, _, folder = other.rpartition("=")
        variants.append(Variant(label or f"PYTHONPATH={folder}", str(Path(folder).resolve())))
    if not args.source_only:
        for folder in [SRC, *(Path(v.pythonpath) for v in variants if v.pythonpath)]:
            compileall.compile_dir(folder, quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            # Alternate the order, so that no variant always starts on a warmer machine.
            order = variants if round_ % 2 == 0 else variants[::-1]
            for index, variant in enumerate(order):
                db = f"sqlite:///{tmp}/r{round_}-{index}.db"
                wall, cpu = spawn_to_first_answer(db, args.workers, variant.pythonpath)
                variant.new_db.append(wall)
                variant.new_db_cpu.append(cpu)
            for index, variant in enumerate(order):
                db = f"sqlite:///{tmp}/r{round_}-{index}.db"
                wall, cpu = spawn_to_first_answer(db, args.workers, variant.pythonpath)
                variant.existing_db.append(wall)
                variant.existing_db_cpu.append(cpu)
            print(f"round {round_ + 1}/{args.rounds} done", file=sys.stderr)
    bytecode = "sources only" if args.source_only else "bytecode compiled"
    print(f"spawn to first answer, --workers {args.workers}, {args.rounds} rounds, {bytecode}:")
    for variant in variants:
        print(f"  {variant.name}")
        print(f"    new database:      {summary(variant.new_db)}")
        print(f"      CPU used:        {summary(variant.new_db_cpu)}")
        print(f"    existing database: {summary(variant.existing_db)}")
        print(f"      CPU used:        {summary(variant.existing_db_cpu)}")


if __name__ == "__main__":
    main()
