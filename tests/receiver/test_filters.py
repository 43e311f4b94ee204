"""Filter syntax (pure)."""

from __future__ import annotations

import pytest

from uniqodo_mock.receiver.filters import FilterError, parse_filter, parse_time


def test_param_filter_keeps_colons_in_value() -> None:
    f = parse_filter([("param", "code:AB12E3GH"), ("param", "redeemedAt:2015-05-29T10:39:17+0000")])
    assert f.params == (("code", "AB12E3GH"), ("redeemedAt", "2015-05-29T10:39:17+0000"))


def test_param_without_value_means_present() -> None:
    assert parse_filter([("param", "orderId")]).params == (("orderId", None),)


def test_methods_are_uppercased_and_split() -> None:
    assert parse_filter([("method", "post, get")]).methods == ("POST", "GET")


def test_times_are_iso_8601() -> None:
    assert parse_time("since", "1970-01-01T00:00:01Z") == 1_000_000
    assert parse_time("since", "1970-01-01T01:00:01+01:00") == 1_000_000
    assert parse_time("since", "1990-12-31T23:59:60Z") == parse_time(
        "since", "1990-12-31T23:59:59Z"
    )


@pytest.mark.parametrize(
    ("items", "parameter"),
    [
        ([("param", ":x")], "param"),
        ([("method", "PO ST")], "method"),
        ([("path", "hook")], "path"),
        ([("since", "yesterday")], "since"),
        ([("limit", "0")], "limit"),
        ([("limit", "abc")], "limit"),
        ([("callback", "maybe")], "callback"),
        ([("after", "1"), ("after", "2")], "after"),
        ([("colour", "red")], "colour"),
        ([("limit", "1_0")], "limit"),
        ([("after", "\u0661\u0662")], "after"),  # Arabic-Indic digits: int() takes them
        ([("param", f"p{i}:v") for i in range(21)], "param"),
    ],
)
def test_bad_filters_name_the_parameter(items: list[tuple[str, str]], parameter: str) -> None:
    with pytest.raises(FilterError) as caught:
        parse_filter(items)
    assert caught.value.parameter == parameter


def test_ignored_keys_are_the_callers() -> None:
    assert parse_filter([("timeout", "3")], ignore=("timeout",)).is_empty()


def test_empty_filter_is_empty_but_cursor_is_not() -> None:
    assert parse_filter([("limit", "5")]).is_empty()
    assert not parse_filter([("after", "5")]).is_empty()
