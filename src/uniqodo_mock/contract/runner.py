"""Run schemathesis's own CLI engine in this process with our configuration.

Its engine gives the phases (examples, coverage, fuzzing, stateful through the spec's links),
every check, progress, seeds, rate limiting, JUnit and HAR reports, and a curl line for each
failure; we add the keys/ids hook, the redeem guard and a per-operation summary table.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import schemathesis
from schemathesis.hooks import GLOBAL_HOOK_DISPATCHER

from uniqodo_mock.contract.settings import REDEEM_OPERATION, ContractSettings
from uniqodo_mock.contract.summary import OperationResult, read_junit, render_table
from uniqodo_mock.contract.values import inject_path_values
from uniqodo_mock.specs import spec_path

__all__ = ["ContractResult", "run_contract", "schemathesis_args"]


class ContractResult:
    def __init__(self, exit_code: int, operations: list[OperationResult], junit: Path) -> None:
        self.exit_code = exit_code
        self.operations = operations
        self.junit = junit

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
        args += ["--report-har-path", str(settings.report_dir / "contract.har")]
    args += ["--report", ",".join(formats)]
    if not settings.redeems:
        args += ["--exclude-operation-id", REDEEM_OPERATION]
    if settings.effective_rate_limit:
        args += ["--rate-limit", settings.effective_rate_limit]
    return args


def run_contract(settings: ContractSettings, echo: Callable[[str], Any] = print) -> ContractResult:
    """Run the suite; schemathesis prints its progress and failures (with curl lines) as it
    goes, then we print one row per operation."""
    from schemathesis.cli import schemathesis as st_cli

    with tempfile.TemporaryDirectory(prefix="uqm-contract-") as tmp:
        junit = settings.junit_xml or Path(tmp) / "junit.xml"
        junit.parent.mkdir(parents=True, exist_ok=True)

        def map_case(_ctx: Any, case: Any) -> Any:
            return inject_path_values(settings, case)

        schemathesis.hook(map_case)
        try:
            try:
                config = Path(tmp) / "schemathesis.toml"
                # No crash cache: runs are reproducible from --seed alone, and nothing is
                # written into the caller's working directory.
                config.write_text("[cache]\nenabled = false\n")
                args = ["--config-file", str(config), *schemathesis_args(settings, junit)]
                st_cli.main(args=args, standalone_mode=False)
                code = 0
            except SystemExit as exc:
                code = int(exc.code or 0) if not isinstance(exc.code, str) else 1
        finally:
            GLOBAL_HOOK_DISPATCHER.unregister(map_case)
        operations = read_junit(junit) if junit.exists() else []
        echo(render_table(operations))
        if not settings.redeems:
            echo(
                f"not redeemed: {settings.base_url} is not local (pass --allow-redeem to "
                "include the redeem operation)"
            )
        result = ContractResult(code, operations, junit)
        if not operations:
            result.exit_code = result.exit_code or 1
        return result
