"""The precomputed parse tables of rule_engine's grammar (core/rule_tables.py): used when they
are the installed grammar's, ignored (tables built as before) when they are not."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from uniqodo_mock.core.rule_tables import TABLES_FILE

# Run in a fresh interpreter: rule_engine builds its parser once, at import. PLY's parser keeps
# its productions as ``MiniProduction`` when it read the tables, ``Production`` when it built them.
_IMPORT_WITHOUT_BUILDING = """
import sys
from pathlib import Path
from uniqodo_mock.core.rule_tables import install_rule_parser_tables
print("installed", install_rule_parser_tables(Path(sys.argv[1])))
import rule_engine
production = type(rule_engine.Rule.parser._parser.productions[0]).__name__
print({"MiniProduction": "read", "Production": "built"}.get(production, production))
rule = rule_engine.Rule('basketTotal >= 50 and "SKU-1" in skus',
                        context=rule_engine.Context(default_value=None))
print(rule.matches({"basketTotal": 60, "skus": ["SKU-1"]}),
      rule.matches({"basketTotal": 40, "skus": ["SKU-1"]}))
"""


def _run(tables: Path) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_IMPORT_WITHOUT_BUILDING), str(tables)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.splitlines()


def test_shipped_tables_are_the_installed_grammars() -> None:
    # Fails after a rule_engine upgrade that changed the grammar: regenerate the tables with
    # scripts/rule_parser_tables.py (until then every start builds them, ~1 s).
    assert _run(TABLES_FILE) == ["installed True", "read", "True False"]


def test_tables_of_another_grammar_are_ignored(tmp_path: Path) -> None:
    stale = json.loads(TABLES_FILE.read_text(encoding="utf-8"))
    stale["signature"] = stale["signature"] + " (another grammar)"
    tables = tmp_path / "tables.json"
    tables.write_text(json.dumps(stale), encoding="utf-8")
    assert _run(tables) == ["installed True", "built", "True False"]


def test_a_missing_tables_file_installs_nothing(tmp_path: Path) -> None:
    assert _run(tmp_path / "absent.json") == ["installed False", "built", "True False"]
