"""What ``uniqodo-mock contract`` prints while schemathesis runs, from schemathesis's own events
(a CLI event handler, its documented extension point): a line per phase (on a terminal, a
counter that moves while the phase runs), then each failure with a curl line that reproduces
it, errors and warnings, and what the stateful phase could not follow, said for what it is.

schemathesis's own report is not printed (``--verbose`` prints it too): it is long, names
files in the temporary folder the run deletes, and shows links that could not be followed
as a "Failed to extract data from response" block even when that is expected (see
``link_notes``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from schemathesis.cli.events import LoadingFinished
from schemathesis.engine import Status, events
from schemathesis.engine.run import TESTING_PHASES, UNIT_PHASES, PhaseName

__all__ = ["ContractProgress", "LinkNote", "link_notes"]

_STATUS_WORDS = {
    Status.SUCCESS: "ok",
    Status.FAILURE: "FAILED",
    Status.ERROR: "ERROR",
    Status.INTERRUPTED: "interrupted",
    Status.SKIP: "skipped",
}


@dataclass(frozen=True)
class LinkNote:
    """A link of the spec the stateful phase could not follow, and why."""

    link: str  # "GET /validate/... -> [200] RedeemValidatedCode -> GET /redeem/..."
    parameter: str
    expression: str
    # Why the value was missing; ``expected``: the answer legitimately has no such value.
    why: str
    expected: bool

    @property
    def name(self) -> str:
        """``RedeemValidatedCode (validate -> redeem)``."""
        parts = self.link.split(" -> ")
        if len(parts) != 3:
            return self.link
        ends = [part.split(" ", 1)[-1].strip("/").split("/")[0] for part in (parts[0], parts[2])]
        return f"{parts[1].split(']')[-1].strip()} ({ends[0]} -> {ends[1]})"


def _vendor_error(body: bytes) -> int | None:
    """The vendor error number of a failure envelope (``result: failure``, ``data: null``)."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(document, dict) or document.get("result") != "failure":
        return None
    errors = document.get("errors") or [{}]
    code = errors[0].get("code") if isinstance(errors[0], dict) else None
    return code if isinstance(code, int) else 0


def link_notes(failures: list[Any]) -> list[LinkNote]:
    """Classify schemathesis's extraction failures.

    The spec's links hang on HTTP 200 answers, and a Uniqodo 200 is also a business failure
    (``data: null`` with an error, e.g. validating a code already redeemed); a link reading
    ``$response.body#/data/...`` then has nothing to read. A link reading an optional request
    parameter (``$request.query.uid``) has nothing when the request did not send it. Both are
    expected: OpenAPI links cannot be conditional. Anything else (a successful answer without
    the linked field) means the link or the answer is wrong.
    """
    notes = []
    for failure in failures:
        expression = str(failure.expression)
        code = _vendor_error(getattr(failure.response, "content", b"") or b"")
        if failure.error is not None:
            why, expected = f"{type(failure.error).__name__}: {failure.error}", False
        elif expression.startswith("$request."):
            why = f"the request sent no {expression.rsplit('.', 1)[-1]}"
            expected = True
        elif code is not None:
            why, expected = f"error {code}", True
        else:
            why, expected = "a successful answer without that field", False
        notes.append(LinkNote(str(failure.id), failure.parameter_name, expression, why, expected))
    return notes


def _expected_summary(notes: list[LinkNote]) -> str | None:
    """One line for the link steps that could not be taken, as expected."""
    groups: dict[tuple[str, str], list[str]] = {}
    for note in notes:
        if note.expected:
            groups.setdefault((note.name, note.parameter), []).append(note.why)
    if not groups:
        return None
    parts = []
    for (name, parameter), whys in sorted(groups.items()):
        errors = sorted({why for why in whys if why.startswith("error ")})
        others = sorted({why for why in whys if not why.startswith("error ")})
        reasons = []
        if errors:
            numbers = ", ".join(w.split()[1] for w in errors)
            reasons.append(f"the answer was a business failure: error {numbers}")
        reasons += others
        parts.append(f"{name}: no {parameter} {len(whys)}x ({'; '.join(reasons)})")
    total = sum(len(whys) for whys in groups.values())
    return (
        f"stateful: {total} link step(s) not taken, as expected (a link has nothing to pass on "
        f"when an HTTP 200 answer is a business failure without data): {'; '.join(parts)}"
    )


class ContractProgress:
    """Receives the run's events (through ``runner``'s registered handler)."""

    def __init__(self, out: TextIO, echo: Callable[[str], Any]) -> None:
        self.out = out
        self.echo = echo
        self.live = out.isatty()
        self.phase: PhaseName | None = None
        self.done = 0
        self.total = 0
        self.failed: set[str] = set()
        self.finished = False
        self.loaded = False
        # Why schemathesis stopped before the end (its FatalError), if it did.
        self.fatal: BaseException | None = None
        self.started_phases: set[PhaseName] = set()

    # -- one phase ------------------------------------------------------------------------
    def _count_line(self) -> str:
        assert self.phase is not None
        if self.phase in UNIT_PHASES:
            return f"  {self.phase.value:<10} {self.done}/{self.total} operations"
        return f"  {self.phase.value:<10} {self.done} scenarios"

    def _write(self, text: str) -> None:
        # Not click.echo: inside schemathesis's run the current click context is its own,
        # with --no-color, and click would strip the terminal's control sequences.
        self.out.write(text)
        self.out.flush()

    def _show_counter(self) -> None:
        if self.live:
            self._write(f"\r\x1b[2K{self._count_line()}")

    def _end_phase(self, status: Status) -> None:
        word = _STATUS_WORDS.get(status, str(status))
        if self.failed and status == Status.FAILURE:
            word = f"FAILED ({len(self.failed)} with failures)"
        line = f"{self._count_line():<40} {word}"
        if self.live:
            self._write(f"\r\x1b[2K{line}\n")
        else:
            self.echo(line)
        self.phase = None

    def handle(self, ctx: Any, event: Any) -> None:
        if isinstance(event, events.PhaseStarted) and event.phase.name in TESTING_PHASES:
            self.phase = event.phase.name
            self.started_phases.add(self.phase)
            self.done = 0
            self.failed = set()
            statistic = getattr(ctx, "api_statistic", None)
            self.total = statistic.operations.selected if statistic else 0
            self._show_counter()
        elif isinstance(event, events.ScenarioFinished) and self.phase is not None:
            self.done += 1
            if event.status in (Status.FAILURE, Status.ERROR) and event.label:
                self.failed.add(event.label)
            self._show_counter()
        elif isinstance(event, events.PhaseFinished) and event.phase.name == self.phase:
            self._end_phase(event.status)
        elif isinstance(event, LoadingFinished):
            self.loaded = True
        elif isinstance(event, events.FatalError):
            self.fatal = event.exception
        elif isinstance(event, events.EngineFinished):
            self.finished = True
            self._report(ctx)
            statistic = ctx.statistic
            self.echo(
                f"{statistic.total_cases} generated test cases, {statistic.total_failures} "
                f"failed, in {event.running_time:.1f} s"
            )

    # -- the end --------------------------------------------------------------------------
    def _report(self, ctx: Any) -> None:
        for phase in TESTING_PHASES:
            status, reason = ctx.phases.get(phase, (Status.SKIP, None))
            if phase not in self.started_phases and status == Status.SKIP:
                why = f" ({reason.display})" if reason is not None else ""
                self.echo(f"  {phase.value:<10} skipped{why}")
        statistic = ctx.statistic
        for label in sorted(statistic.failures):
            self.echo(f"\nFAILED {label}")
            for index, group in enumerate(statistic.failures[label].values(), 1):
                self.echo(
                    group.format(index=index, curl=group.code_sample, config=ctx.config.output)
                )
        for error in sorted(ctx.errors, key=lambda e: (e.label, e.info.title)):
            self.echo(f"\nERROR {error.label}")
            self.echo(error.info.format(base_url_is_set=True))
        for kind, labels in ctx.warnings.as_labels().items():
            if labels:
                self.echo(f"warning: {kind}: {', '.join(labels)} (details: --verbose)")
        self._links(link_notes(list(statistic.extraction_failures)))

    def _links(self, notes: list[LinkNote]) -> None:
        summary = _expected_summary(notes)
        if summary:
            self.echo(summary)
        for note in notes:
            if not note.expected:
                self.echo(
                    f"warning: the link {note.link} found no `{note.parameter}` at "
                    f"{note.expression}: {note.why}; check the link in the spec"
                )
