"""Body parsing (declared charset, JSON) and the per-path response rules (pure)."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from uniqodo_mock.receiver.export import to_csv
from uniqodo_mock.receiver.model import Param, RecordedCall
from uniqodo_mock.receiver.parsing import _form_pairs, parse_params
from uniqodo_mock.receiver.responses import ResponseRule, ResponseTable, parse_rule


def test_form_is_decoded_with_the_declared_charset() -> None:
    params = parse_params(
        "", "application/x-www-form-urlencoded; charset=ISO-8859-1", b"name=Ren%E9&x=%A3"
    )
    assert params == [Param("form", "name", "René"), Param("form", "x", "£")]


def test_form_defaults_to_utf8_and_keeps_blanks() -> None:
    params = parse_params("a=1", "application/x-www-form-urlencoded", b"name=Ren%C3%A9&e=")
    assert params == [
        Param("query", "a", "1"),
        Param("form", "name", "René"),
        Param("form", "e", ""),
    ]


def test_json_members_become_fields() -> None:
    params = parse_params(
        "", "application/json", b'{"order_value": 219.99, "code": "X", "ok": true}'
    )
    assert params == [
        Param("json", "order_value", "219.99"),
        Param("json", "code", "X"),
        Param("json", "ok", "true"),
    ]


def test_garbage_json_is_kept_raw_not_parsed() -> None:
    assert parse_params("", "application/json", b"{nope") == []


def test_rule_syntax() -> None:
    assert parse_rule("/hook=500") == ResponseRule("/hook", 500, 0.0)
    assert parse_rule("/slow=204:2.5") == ResponseRule("/slow", 204, 2.5)
    for bad in ("hook=500", "/hook", "/hook=abc", "/hook=700", "/__receiver/x=500", "/h=204:-1"):
        with pytest.raises(ValueError):
            parse_rule(bad)


def test_exact_rule_beats_pattern() -> None:
    table = ResponseTable([ResponseRule("/hooks/*", 503), ResponseRule("/hooks/a", 200)])
    assert table.match("/hooks/a").status == 200  # type: ignore[union-attr]
    assert table.match("/hooks/b").status == 503  # type: ignore[union-attr]
    assert table.match("/other") is None


def test_csv_guards_spreadsheet_formulas() -> None:
    call = RecordedCall("POST", "/h", "", [], b"", 0, params=[Param("form", "x", "1")])
    call.id = 1
    call.client = '=HYPERLINK("http://evil")'
    assert "'=HYPERLINK" in to_csv([call])


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a=1",
        "a=1&b=2&a=3",
        "a=&=b&c&&d==e",
        "sp=a+b&pct=%41%2B%26%3D&plus=%2b+",
        "bad=%zz%4&utf=%C3%A9&latin=%E9",
        "&&x=1&",
        "k%3Dx=v%26y",
    ],
)
@pytest.mark.parametrize("encoding", ["utf-8", "iso-8859-1"])
def test_form_pairs_equal_parse_qsl(text: str, encoding: str) -> None:
    expected = parse_qsl(text, keep_blank_values=True, encoding=encoding, errors="replace")
    assert _form_pairs(text, encoding) == expected
