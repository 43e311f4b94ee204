"""Admin handlers of the test controls: state reset/snapshot/fixtures, journal,
virtual clock and fault rules. ``AdminApi`` inherits them; answers are JSON, failures the
vendor envelope (400 naming what is wrong)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
import yaml
from connexion import request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from uniqodo_mock.control.faults import FaultRuleError
from uniqodo_mock.control.journal import JournalQuery
from uniqodo_mock.core.codes import derived_reference
from uniqodo_mock.fixtures import FixtureError
from uniqodo_mock.fixtures.loader import load_fixture_text
from uniqodo_mock.mock.envelope import json_response
from uniqodo_mock.mock.journal import flush_journal_writers
from uniqodo_mock.store.snapshot import SnapshotError, export_snapshot, import_snapshot

if TYPE_CHECKING:
    from uniqodo_mock.mock.runtime import MockRuntime

__all__ = ["ControlAdmin"]


class ControlAdmin:
    runtime: MockRuntime

    # -- plumbing -------------------------------------------------------------------------
    def _failure(self, problems: list[str], status: int = 400) -> Response:
        entry = self.runtime.service.catalogue["invalid_parameter"]
        reference = derived_reference(
            self.runtime.service.settings.seed, "admin", status, tuple(problems)
        )
        return json_response(
            {
                "data": None,
                "errors": [
                    {
                        "code": entry.code,
                        "message": problem,
                        "promotion_specific_error": None,
                        "reference": reference,
                    }
                    for problem in problems
                ],
                "result": "failure",
            },
            status,
        )

    @staticmethod
    def _body_json(body: Any) -> Any:
        # connexion has read, parsed and type-checked the JSON body already (malformed JSON
        # never gets here: it is a 400 in the envelope).
        if isinstance(body, bytes | str):
            try:
                return orjson.loads(body)
            except orjson.JSONDecodeError as error:
                raise ValueError(f"the request body is not valid JSON: {error}") from None
        if body is None:
            raise ValueError("the request body is empty; send a JSON document")
        return body

    # -- state ----------------------------------------------------------------------------
    def reset(self, **_: Any) -> Response:
        runtime = self.runtime
        runtime.reset()
        clock = "real" if runtime.clock.state.is_real else runtime.clock.now().isoformat()
        return json_response(
            {"reset": True, "fixtures": str(runtime.fixtures.source), "clock": clock, "faults": 0}
        )

    def get_snapshot(self, **_: Any) -> Response:
        return json_response(export_snapshot(self.runtime.repo))

    def put_snapshot(self, body: Any = None, **_: Any) -> Response:
        try:
            document = self._body_json(body)
            counts = import_snapshot(self.runtime.repo, document)
        except ValueError as error:
            problems = error.problems if isinstance(error, SnapshotError) else [str(error)]
            return self._failure(problems)
        self.runtime.service.reload_settings()
        self.runtime.controls.clock_sync.refresh(force=True)
        return json_response({"restored": counts})

    def put_fixtures(self, body: Any = None, **_: Any) -> Response:
        try:
            if isinstance(body, dict | list):
                text = orjson.dumps(body).decode()  # JSON is YAML
            elif isinstance(body, bytes):
                text = body.decode("utf-8")
            else:
                text = str(body or "")
            document = load_fixture_text(text, source="PUT /__admin/fixtures")
        except UnicodeDecodeError:
            return self._failure(["the fixture document is not valid UTF-8"])
        except FixtureError as error:
            return self._failure([str(p) for p in error.problems] or [str(error)])
        except yaml.YAMLError as error:
            return self._failure([f"the fixture document is not valid YAML: {error}"])
        self.runtime.load_fixtures(document)
        return json_response({"loaded": True, "fixtures": str(document.source)})

    # -- journal --------------------------------------------------------------------------
    async def _journal_settled(self) -> None:
        """Before the journal is read or cleared: this process's entries stored, and the other
        replicas' given ``journal_settle`` seconds to store theirs (each writes its batches
        right behind its answers)."""
        await flush_journal_writers()
        settle = self.runtime.config.journal_settle
        if settle > 0:
            await asyncio.sleep(settle)

    async def get_journal(self, **_: Any) -> Response:
        params = dict(request.query_params)
        await self._journal_settled()
        return await run_in_threadpool(self._journal_answer, params)

    def _journal_answer(self, params: Mapping[str, str]) -> Response:
        problems: list[str] = []

        def number(name: str) -> int | None:
            value = params.get(name)
            if value in (None, ""):
                return None
            try:
                return int(value)
            except ValueError:
                problems.append(f"'{name}' must be an integer, got {value!r}")
                return None

        def moment(name: str) -> datetime | None:
            value = params.get(name)
            if not value:
                return None
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                problems.append(f"'{name}' must be an ISO-8601 time, got {value!r}")
                return None
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

        limit = number("limit")
        query = JournalQuery(
            operation=params.get("operation") or None,
            code=params.get("code") or None,
            error=number("error"),
            key=params.get("key") or None,
            status=number("status"),
            reference=params.get("reference") or None,
            since=moment("since"),
            until=moment("until"),
            limit=100 if limit is None else limit,
        )
        if limit is not None and not 1 <= limit <= 10_000:
            problems.append(f"'limit' must be between 1 and 10000, got {limit}")
        if problems:
            return self._failure(problems)
        journal = self.runtime.controls.journal
        entries = journal.query(query)
        return json_response(
            {
                "entries": [entry.to_json() for entry in entries],
                "count": len(entries),
                "held": len(journal),
                "max_entries": journal.max_entries,
                "dropped": journal.dropped,
            }
        )

    async def clear_journal(self, **_: Any) -> Response:
        await self._journal_settled()
        cleared = await run_in_threadpool(self.runtime.controls.journal.clear)
        return json_response({"cleared": cleared})

    # -- clock ----------------------------------------------------------------------------
    def _clock_json(self) -> dict[str, Any]:
        clock = self.runtime.clock
        return {"now": clock.now().isoformat(), **clock.state.to_json()}

    def get_clock(self, **_: Any) -> Response:
        self.runtime.controls.clock_sync.refresh(force=True)
        return json_response(self._clock_json())

    def put_clock(self, body: Any = None, **_: Any) -> Response:
        try:
            body = self._body_json(body)
        except ValueError as error:
            return self._failure([str(error)])
        sync = self.runtime.controls.clock_sync
        if not isinstance(body, dict) or ("now" in body) == ("offset_seconds" in body):
            return self._failure(
                ['send {"now": "2031-01-01T00:00:00Z", "frozen": true} or {"offset_seconds": 3600}']
            )
        if "offset_seconds" in body:
            offset = body["offset_seconds"]
            if isinstance(offset, bool) or not isinstance(offset, int | float):
                return self._failure([f"'offset_seconds' must be a number, got {offset!r}"])
            sync.offset_by(float(offset))
            return json_response(self._clock_json())
        frozen = body.get("frozen", False)
        if not isinstance(frozen, bool):
            return self._failure([f"'frozen' must be true or false, got {frozen!r}"])
        try:
            now = datetime.fromisoformat(str(body["now"]).replace("Z", "+00:00"))
        except ValueError:
            return self._failure([f"'now' must be an ISO-8601 time, got {body['now']!r}"])
        sync.set(now, frozen=frozen)
        return json_response(self._clock_json())

    def delete_clock(self, **_: Any) -> Response:
        self.runtime.controls.clock_sync.real()
        return json_response(self._clock_json())

    # -- faults ---------------------------------------------------------------------------
    def list_faults(self, **_: Any) -> Response:
        return json_response(
            {"faults": [rule.to_json() for rule in self.runtime.controls.faults.list()]}
        )

    def add_fault(self, body: Any = None, **_: Any) -> Response:
        try:
            rule = self.runtime.controls.faults.add(self._body_json(body))
        except (ValueError, FaultRuleError) as error:
            return self._failure([str(error)])
        return json_response(rule.to_json(), 201)

    def clear_faults(self, **_: Any) -> Response:
        return json_response({"deleted": self.runtime.controls.faults.clear()})

    def delete_fault(self, fault_id: int, **_: Any) -> Response:
        if not self.runtime.controls.faults.delete(fault_id):
            return self._failure([f"no fault rule {fault_id}"], 404)
        return json_response({"deleted": 1})
