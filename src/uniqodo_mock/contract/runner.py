"""Run schemathesis's own CLI engine in this process with our configuration.

Its engine gives the phases (examples, coverage, fuzzing, stateful through the spec's links),
every check, seeds, rate limiting, JUnit and HAR reports, and a curl line for each failure; we
add the keys/ids hook, the redeem guard, our own quiet progress and report (output.py) and a
per-operation summary table.
"""

from __future__ import annotations

import contextlib
import io
import random
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

import schemathesis
from schemathesis import cli as st_extensions
from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER

from uniqodo_mock.contract.output import ContractProgress
from uniqodo_mock.contract.settings import REDEEM_OPERATION, ContractSettings
from uniqodo_mock.contract.summary import OperationResult, read_junit, render_table
from uniqodo_mock.contract.values import inject_path_values
from uniqodo_mock.specs import spec_path

__all__ = ["ContractResult", "ContractStopped", "run_contract", "schemathesis_args"]

# The run in progress in this process; schemathesis creates its CLI handlers itself.
_current: ContractProgress | None = None


@st_extensions.handler()
class _Relay(st_extensions.EventHandler):
    """Hands schemathesis's events to the contract run that started it (inert otherwise)."""

    def __init__(self, *_args: Any, **_params: Any) -> None:
        self.progress = _current

    def handle_event(self, ctx: Any, event: Any) -> None:
        if self.progress is not None:
            self.progress.handle(ctx, event)


class ContractStopped(Exception):
    """schemathesis stopped before the end: the spec could not be loaded (``loaded`` false),
    or the run broke off (e.g. the deployment went away)."""

    def __init__(self, spec: Path, loaded: bool, cause: BaseException | None) -> None:
        reason = " ".join(str(cause or "no reason given").split())
        if not loaded:
            message = f"cannot load {spec} as an OpenAPI document: {reason}"
        else:
            message = f"the run stopped before the end: {reason}"
        super().__init__(message)
        self.loaded = loaded


class ContractResult:
    def __init__(self, exit_code: int, operations: list[OperationResult], seed: int) -> None:
        self.exit_code = exit_code
        self.operations = operations
        self.seed = seed

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not any(op.failures or op.errors for op in self.operations)


def schemathesis_args(settings: ContractSettings, junit: Path) -> list[str]:
    spec = settings.spec or spec_path("uniqodo.yaml")
    args = [
        "run",
        str(spec),
        "--url",
        settings.base_url.rstrip("/"),
        "--checks",
        "all",
        "--max-examples",
        str(settings.max_examples),
        "--generation-database",
        "none",
        "--continue-on-failure",
        "--workers",
        str(settings.workers),
        "--report-junit-path",
        str(junit),
        "--no-color",
    ]
    # One --report option: schemathesis takes a comma-separated list and the last flag wins.
    formats = ["junit"]
    if settings.seed is not None:
        args += ["--seed", str(settings.seed)]
    if settings.report_dir is not None:
        settings.report_dir.mkdir(parents=True, exist_ok=True)
        formats.append("har")
        args += ["--report-dir", str(settings.report_dir)]
        args += ["--report-har-path", str(har_path(settings.report_dir))]
    args += ["--report", ",".join(formats)]
    if not settings.redeems:
        args += ["--exclude-operation-id", REDEEM_OPERATION]
    if settings.effective_rate_limit:
        args += ["--rate-limit", settings.effective_rate_limit]
    return args


def har_path(report_dir: Path) -> Path:
    return report_dir / "contract.har"


def run_contract(
    settings: ContractSettings, out: TextIO | None = None, *, verbose: bool = False
) -> ContractResult:
    """Run the suite, printing a line per phase, the failures (with curl lines), then one row
    per operation. ``verbose``: schemathesis's own report as well."""
    global _current
    from schemathesis.cli import schemathesis as st_cli

    out = out or sys.stdout

    def echo(line: str) -> None:
        # A plain write: click.echo would consult schemathesis's click context mid-run.
        out.write(line + "\n")
        out.flush()

    if settings.seed is None:
        # Chosen here, not by schemathesis, so that it is printed before the run starts.
        settings.seed = random.SystemRandom().randrange(2**31)
    spec = settings.spec or spec_path("uniqodo.yaml")
    echo(
        f"contract: {settings.base_url} against {spec.name}: seed {settings.seed}, at most "
        f"{settings.max_examples} examples per operation and phase"
        + ("" if settings.redeems else ", without redeeming")
    )
    progress = ContractProgress(out, echo)
    with tempfile.TemporaryDirectory(prefix="uqm-contract-") as tmp:
        junit = settings.junit_xml or Path(tmp) / "junit.xml"
        junit.parent.mkdir(parents=True, exist_ok=True)

        def map_case(_ctx: Any, case: Any) -> Any:
            return inject_path_values(settings, case)

        schemathesis.hook(map_case)
        report = io.StringIO()
        _current = progress
        try:
            config = Path(tmp) / "schemathesis.toml"
            # No crash cache: runs are reproducible from --seed alone, and nothing is
            # written into the caller's working directory.
            config.write_text("[cache]\nenabled = false\n")
            args = ["--config-file", str(config), *schemathesis_args(settings, junit)]
            quiet = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(report)
            with quiet:
                try:
                    st_cli.main(args=args, standalone_mode=False)
                    code = 0
                except SystemExit as exc:
                    code = int(exc.code or 0) if not isinstance(exc.code, str) else 1
        finally:
            _current = None
            GLOBAL_HOOK_DISPATCHER.unregister(map_case)
        if not progress.finished:
            raise ContractStopped(spec, progress.loaded, progress.fatal)
        operations = read_junit(junit) if junit.exists() else []
    echo(render_table(operations))
    if not settings.redeems:
        echo(
            f"not redeemed: {settings.base_url} is not local (pass --allow-redeem to "
            "include the redeem operation)"
        )
    # Only the reports that outlive the command.
    written = []
    if settings.junit_xml is not None and settings.junit_xml.exists():
        written.append(f"JUnit {settings.junit_xml}")
    if settings.report_dir is not None and har_path(settings.report_dir).exists():
        written.append(f"HAR {har_path(settings.report_dir)}")
    if written:
        echo("reports: " + ", ".join(written))
    result = ContractResult(code, operations, settings.seed)
    if not operations:
        result.exit_code = result.exit_code or 1
    return result
