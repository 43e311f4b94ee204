"""From raw request parts to the parameters the receiver understood. Pure.

- query string: ``application/x-www-form-urlencoded`` rules, UTF-8 (what browsers and HTTP
  clients send), undecodable bytes replaced;
- form body (``application/x-www-form-urlencoded``): decoded with the charset the
  ``Content-Type`` declares (``; charset=iso-8859-1``), UTF-8 when none, an unknown charset
  falls back to UTF-8 with replacement;
- JSON body (``application/json`` or ``+json``): each top-level member of an object, strings as
  they are, other values as their JSON text (``219.99``, ``true``, ``null``).

Multipart bodies are kept raw but not parsed into fields.
"""

from __future__ import annotations

import codecs
from urllib.parse import parse_qsl

import orjson

from uniqodo_mock.receiver.model import Param

__all__ = ["charset_of", "media_type_of", "parse_params"]


def media_type_of(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def charset_of(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type, if it names a codec Python knows."""
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "charset":
            name = value.strip().strip('"')
            try:
                return codecs.lookup(name).name
            except LookupError:
                return None
    return None


def _form_pairs(text: str, encoding: str) -> list[tuple[str, str]]:
    return parse_qsl(text, keep_blank_values=True, encoding=encoding, errors="replace")


def parse_params(query: str, content_type: str | None, body: bytes) -> list[Param]:
    """Every parameter of a call, query first, then the body's fields."""
    params = [Param("query", name, value) for name, value in _form_pairs(query, "utf-8")]
    if not body:
        return params
    media = media_type_of(content_type)
    if media == "application/x-www-form-urlencoded":
        encoding = charset_of(content_type) or "utf-8"
        # The body of a urlencoded form is ASCII; percent-escapes carry the charset's bytes.
        text = body.decode("latin-1")
        params.extend(Param("form", n, v) for n, v in _form_pairs(text, encoding))
    elif media == "application/json" or media.endswith("+json"):
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            return params
        if isinstance(document, dict):
            for name, value in document.items():
                text = value if isinstance(value, str) else orjson.dumps(value).decode()
                params.append(Param("json", str(name), text))
    return params
