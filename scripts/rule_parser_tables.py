"""Regenerate src/uniqodo_mock/core/rule_parser_tables.json, the precomputed parse tables of
rule_engine's grammar, after a rule_engine upgrade changed its grammar (tests/core/
test_rule_tables.py says when).

    .venv/bin/python scripts/rule_parser_tables.py
"""

from __future__ import annotations

from uniqodo_mock.core.rule_tables import TABLES_FILE, write_rule_parser_tables

if __name__ == "__main__":
    signature = write_rule_parser_tables()
    print(f"wrote {TABLES_FILE} (grammar signature {len(signature)} characters)")
