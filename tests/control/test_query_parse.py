"""The control middleware's query parsing equals ``dict(parse_qsl(...))`` on every shape."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from uniqodo_mock.mock.control import parse_query


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a=1",
        "uid=x@example.com&locale=fr",
        "a=&b=2",
        "a",
        "&&a=1&",
        "a=1&a=2",
        "a=b=c",
        "=x",
        "a=%20",
        "a=+b",
        "a=1;b=2",
        "uid=a%40b.com",
    ],
)
def test_same_as_parse_qsl(text: str) -> None:
    assert parse_query(text) == dict(parse_qsl(text))
