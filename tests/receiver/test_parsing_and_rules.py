"""Body parsing (declared charset, JSON) and the per-path response rules (pure)."""

from __future__ import annotations

import pytest

from uniqodo_mock.receiver.export import to_csv
from uniqodo_mock.receiver.model import Param, RecordedCall
from uniqodo_mock.receiver.parsing import parse_params
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
    ("query", "expected"),
    [
        ("", []),
        ("a=1&b=2&a=3", [("a", "1"), ("b", "2"), ("a", "3")]),
        ("a=&=b&c&&d==e", [("a", ""), ("", "b"), ("c", ""), ("d", "=e")]),
        ("sp=a+b&pct=%41%2B%26%3D&plus=%2b+", [("sp", "a b"), ("pct", "A+&="), ("plus", "+ ")]),
        ("bad=%zz%4&utf=%C3%A9", [("bad", "%zz%4"), ("utf", "\u00e9")]),
        ("&&x=1&", [("x", "1")]),
        ("k%3Dx=v%26y", [("k=x", "v&y")]),
    ],
)
def test_query_strings_follow_the_form_urlencoded_rules(
    query: str, expected: list[tuple[str, str]]
) -> None:
    assert parse_params(query, None, b"") == [Param("query", n, v) for n, v in expected]


def test_undecodable_form_bytes_are_replaced_not_refused() -> None:
    params = parse_params("", "application/x-www-form-urlencoded", b"x=%E9t%C3%A9")
    assert params == [Param("form", "x", "\ufffdt\u00e9")]
