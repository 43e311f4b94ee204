"""The table printed after a run: one row per operation, read back from schemathesis's JUnit."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["OperationResult", "read_junit", "render_table"]

_CHECK_CODE = re.compile(r"^- (ST\d+ [^\n]+)$", re.MULTILINE)


@dataclass
class OperationResult:
    operation: str
    failures: int = 0
    errors: int = 0
    skipped: bool = False
    # The failed checks, e.g. "ST101 Response violates schema".
    checks: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.errors:
            return "ERROR"
        if self.failures:
            return "FAIL"
        return "skipped" if self.skipped else "ok"


def read_junit(path: Path) -> list[OperationResult]:
    root = ET.parse(path).getroot()
    results = []
    for case in root.iter("testcase"):
        result = OperationResult(case.get("name", "?"))
        for failure in case.findall("failure"):
            result.failures += 1
            text = failure.text or ""
            found = _CHECK_CODE.findall(text) or [failure.get("message") or "failure"]
            result.checks.extend(c for c in found if c not in result.checks)
        for error in case.findall("error"):
            result.errors += 1
            result.checks.append((error.get("message") or "error").splitlines()[0][:80])
        result.skipped = case.find("skipped") is not None
        results.append(result)
    return sorted(results, key=lambda r: r.operation)


def render_table(results: list[OperationResult]) -> str:
    if not results:
        return "contract summary: no operation was tested"
    width = max(len(r.operation) for r in results)
    lines = [f"{'operation':<{width}}  status  failed checks", "-" * (width + 40)]
    for r in results:
        lines.append(f"{r.operation:<{width}}  {r.status:<6}  {', '.join(r.checks) or '-'}")
    bad = sum(1 for r in results if r.failures or r.errors)
    lines.append("-" * (width + 40))
    lines.append(f"{len(results)} operations, {len(results) - bad} conform, {bad} do not")
    return "\n".join(lines)
