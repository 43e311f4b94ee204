"""The per-path response rules, kept in the receiver's database so that every receiver sharing
it (replicas, workers, a restart) answers the same.

The rules live in one row of ``receiver_response_rules``: the whole list as JSON, replaced
whole, and a random ``generation`` drawn anew at every replace. The writer thread reads that
row once per batch of recorded calls, in the batch's own transaction on SQLite and just before
the batch's statement on PostgreSQL, and parses the list again only when the generation
changed. A rule replaced through any receiver therefore applies to every call that arrives
after the replace was answered, on every receiver: no refresh interval, one indexed one-row
read per batch.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from uniqodo_mock.receiver.model import RecordedCall, micros_now
from uniqodo_mock.receiver.responses import DEFAULT_STATUS, ResponseRule, ResponseTable
from uniqodo_mock.receiver.tables import response_rules

__all__ = ["MAX_RULES", "SELECT_RULES", "SharedResponses"]

log = logging.getLogger(__name__)

# Every recorded call is matched against the patterns among them: a bound keeps that cheap.
MAX_RULES = 1000
_ROW_ID = 1
# Plain SQL without parameters: the same text runs on the sqlite3 and psycopg cursors.
SELECT_RULES = "SELECT generation, rules FROM receiver_response_rules WHERE id = 1"


def _decode(text: str) -> list[ResponseRule]:
    return [ResponseRule.from_json(item) for item in orjson.loads(text)]


class SharedResponses:
    """The rules as stored (``read``, ``replace``, from any thread, each on its own
    connection) and the writer's cached copy (``apply``, from the writer thread only)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._generation: int | None = None
        self._table = ResponseTable()

    def read(self) -> list[ResponseRule]:
        """The rules in force, as stored now."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(response_rules.c.rules).where(response_rules.c.id == _ROW_ID)
            ).first()
        return _decode(row[0]) if row is not None else []

    def replace(self, rules: Sequence[ResponseRule]) -> list[ResponseRule]:
        """Store ``rules`` in place of the current ones (an empty list: 204 everywhere)."""
        rules = list(rules)
        if len(rules) > MAX_RULES:
            raise ValueError(f"at most {MAX_RULES} rules, got {len(rules)}")
        values = {
            "generation": secrets.randbits(63),
            "rules": orjson.dumps([rule.to_json() for rule in rules]).decode(),
            "updated_at": micros_now(),
        }
        dialect = sqlite if self.engine.dialect.name == "sqlite" else postgresql
        upsert = dialect.insert(response_rules).values(id=_ROW_ID, **values)
        upsert = upsert.on_conflict_do_update(index_elements=["id"], set_=values)
        with self.engine.begin() as conn:
            conn.execute(upsert)
        return rules

    def apply(self, cursor: Any, records: Sequence[RecordedCall]) -> None:
        """Set the answer (status and delay) of each call that is not refused, from the rules
        as stored now; ``cursor`` is a DB-API cursor on the writer's connection."""
        cursor.execute(SELECT_RULES)
        found = cursor.fetchone()
        generation = None if found is None else int(found[0])
        if generation != self._generation:
            self._table = self._load(None if found is None else found[1])
            self._generation = generation
        table = self._table
        for record in records:
            if record.rejected:
                continue
            rule = table.match(record.path)
            if rule is None:
                record.response_status, record.response_delay = DEFAULT_STATUS, 0.0
            else:
                record.response_status, record.response_delay = rule.status, rule.delay

    @staticmethod
    def _load(text: str | None) -> ResponseTable:
        if text is None:
            return ResponseTable()
        try:
            return ResponseTable(_decode(text))
        except (ValueError, TypeError):
            # Only a hand-edited row gets here (every replace is validated): answer 204.
            log.exception("the stored response rules cannot be read; answering %d", 204)
            return ResponseTable()
