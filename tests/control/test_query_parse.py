"""The control middleware's query parsing equals ``dict(parse_qsl(...))`` on every shape."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

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


@given(st.text(alphabet=st.sampled_from("ab=&;.@ -_~é"), max_size=30))
def test_fast_path_split_equals_parse_qsl_keeping_blanks(text: str) -> None:
    from uniqodo_mock.mock.fastpath import split_plain_query

    assert split_plain_query(text) == parse_qsl(text, keep_blank_values=True)
