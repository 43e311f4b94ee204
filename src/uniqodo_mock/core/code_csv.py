"""CSV of codes: reading a personalised-codes upload and writing a batch download.

Upload format (UTF-8, a BOM is tolerated, header optional): ``code[,issued_to][,expires_at]``.
``issued_to`` binds the code to a customer (it is then already issued to them); ``expires_at``
is ``DD-MM-YYYY HH:MM:SS`` in the fixtures' zone or ISO-8601. Every bad line is reported with
its line number; the caller imports nothing unless the whole file is good.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from uniqodo_mock.core.codes import normalise_code
from uniqodo_mock.core.dates import parse_offer_date

__all__ = ["CodeRow", "CsvProblems", "parse_codes_csv", "write_codes_csv"]

_HEADER = ("code", "issued_to", "expires_at")
_MAX_CODE = 64


@dataclass(frozen=True)
class CodeRow:
    line: int
    code: str
    issued_to: str | None
    expires_at: datetime | None


class CsvProblems(ValueError):
    """Every bad line of an upload: ``line 7: duplicate code 'ABC' (first on line 3)``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def parse_codes_csv(data: bytes, zone: ZoneInfo, existing: Iterable[str] = ()) -> list[CodeRow]:
    """The rows of an upload; raises ``CsvProblems`` listing every bad line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CsvProblems([f"the file is not UTF-8 (byte {error.start})"]) from None
    taken = {normalise_code(code) for code in existing}
    seen: dict[str, int] = {}
    rows: list[CodeRow] = []
    problems: list[str] = []
    for index, fields in enumerate(csv.reader(io.StringIO(text))):
        line = index + 1
        fields = [field.strip() for field in fields]
        if not fields or not any(fields):
            continue
        if line == 1 and fields[0].lower() == "code":
            unknown = [f for f in fields if f.lower() not in _HEADER]
            if unknown:
                problems.append(f"line 1: unknown column(s) {', '.join(map(repr, unknown))}")
            continue
        if len(fields) > 3:
            problems.append(
                f"line {line}: {len(fields)} columns; expected code[,issued_to][,expires_at]"
            )
            continue
        code = fields[0]
        norm = normalise_code(code)
        if not code:
            problems.append(f"line {line}: empty code")
            continue
        if len(code) > _MAX_CODE or any(c.isspace() for c in code):
            problems.append(
                f"line {line}: code {code!r} is longer than {_MAX_CODE} characters or has blanks"
            )
            continue
        if norm in seen:
            problems.append(f"line {line}: duplicate code {code!r} (first on line {seen[norm]})")
            continue
        seen[norm] = line
        if norm in taken:
            problems.append(f"line {line}: code {code!r} already exists in this offer")
            continue
        expires_at = None
        if len(fields) > 2 and fields[2]:
            try:
                expires_at = parse_offer_date(fields[2], zone)
            except ValueError:
                problems.append(f"line {line}: expires_at {fields[2]!r} is not DD-MM-YYYY HH:MM:SS")
                continue
        issued_to = fields[1] if len(fields) > 1 and fields[1] else None
        rows.append(CodeRow(line, code, issued_to, expires_at))
    if problems:
        raise CsvProblems(problems)
    if not rows:
        raise CsvProblems(["the file holds no codes"])
    return rows


def write_codes_csv(codes: Iterable[str], offer_id: int) -> str:
    """A batch download: a header, then one ``code,offer_id`` per line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["code", "offer_id"])
    for code in codes:
        writer.writerow([code, offer_id])
    return out.getvalue()
