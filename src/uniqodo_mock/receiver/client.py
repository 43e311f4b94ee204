"""A small client of the receiver's API, used by the ``calls`` CLI and by tests/QA scripts.

Filters are passed as keyword arguments named like the API's (``method``, ``path``, ``since``,
``until``, ``callback``, ``conforms``, ``after``, ``limit``) plus ``param`` (a string or a list
of ``NAME:VALUE``). API errors raise ``ReceiverError`` with the receiver's message (and the
request's URL); an answer that is not the receiver's JSON raises ``UnexpectedAnswer``.
Connection problems are httpx's own exceptions.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from typing import Any

import httpx

__all__ = [
    "DEFAULT_RECEIVER_URL",
    "ReceiverClient",
    "ReceiverError",
    "UnexpectedAnswer",
    "WaitTimeout",
]

DEFAULT_RECEIVER_URL = "http://127.0.0.1:8090"


class ReceiverError(RuntimeError):
    def __init__(self, status: int, message: str, *, url: str | None = None) -> None:
        super().__init__(f"receiver answered {status}: {message}")
        self.status = status
        self.message = message
        self.url = url


class WaitTimeout(ReceiverError):
    """No matching call arrived within the timeout (the API's 408)."""


class UnexpectedAnswer(ReceiverError):
    """A successful answer that is not the receiver's JSON: the URL points at something else
    than a callback receiver."""


def _unexpected(response: httpx.Response, expected: str) -> UnexpectedAnswer:
    kind = response.headers.get("content-type", "").split(";")[0] or "no content type"
    return UnexpectedAnswer(
        response.status_code,
        f"HTTP {response.status_code} and not {expected} but {kind}",
        url=str(response.request.url),
    )


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise _unexpected(response, "JSON") from None


def _query(filters: dict[str, Any]) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    for key, value in filters.items():
        if value is None or value == () or value == []:
            continue
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if isinstance(item, bool):
                item = "true" if item else "false"
            items.append((key, str(item)))
    return items


class ReceiverClient:
    def __init__(
        self,
        base_url: str = DEFAULT_RECEIVER_URL,
        *,
        token: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.timeout = timeout
        self._http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout)

    def __enter__(self) -> ReceiverClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _get(
        self, path: str, params: list[tuple[str, str]] | None = None, **kw: Any
    ) -> httpx.Response:
        query = httpx.QueryParams(tuple(params or ()))
        return self._check(self._http.get(f"/__receiver{path}", params=query, **kw))

    @staticmethod
    def _check(response: httpx.Response) -> httpx.Response:
        if response.is_success:
            return response
        try:
            message = str(response.json()["error"]["message"])
        except (ValueError, KeyError, TypeError):
            # Not the receiver's error document: the URL is another server's.
            raise _unexpected(response, "the receiver's error") from None
        cls = WaitTimeout if response.status_code == 408 else ReceiverError
        raise cls(response.status_code, message, url=str(response.request.url))

    def health(self) -> dict[str, Any]:
        return _json(self._get("/health"))

    def list(self, **filters: Any) -> dict[str, Any]:
        """One page: ``{"calls": [...], "next_cursor": id, "has_more": bool}``."""
        return _json(self._get("/calls", _query(filters)))

    def iter_calls(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every matching call, oldest first, following the cursor."""
        after = filters.pop("after", None)
        while True:
            page = self.list(after=after, **filters)
            yield from page["calls"]
            if not page["has_more"]:
                return
            after = page["next_cursor"]

    def count(self, **filters: Any) -> int:
        return int(_json(self._get("/calls/count", _query(filters)))["count"])

    def show(self, call_id: int) -> dict[str, Any]:
        return _json(self._get(f"/calls/{int(call_id)}"))

    def body(self, call_id: int) -> bytes:
        return self._get(f"/calls/{int(call_id)}/body").content

    def wait(self, timeout: float = 30.0, **filters: Any) -> dict[str, Any]:
        """The first matching call after ``after`` (default: from now on); ``WaitTimeout``.
        The request itself may take ``timeout`` plus the client's own timeout."""
        params = [("timeout", str(timeout)), *_query(filters)]
        return _json(self._get("/wait", params, timeout=timeout + self.timeout))

    def clear(self, **filters: Any) -> int:
        response = self._http.delete(
            "/__receiver/calls", params=httpx.QueryParams(tuple(_query(filters)))
        )
        return int(_json(self._check(response))["deleted"])

    def export(self, fmt: str = "json", **filters: Any) -> bytes:
        return self._get("/calls/export", [("format", fmt), *_query(filters)]).content

    def responses(self) -> builtins.list[dict[str, Any]]:
        return _json(self._get("/responses"))

    def set_responses(self, rules: builtins.list[dict[str, Any]]) -> builtins.list[dict[str, Any]]:
        return _json(self._check(self._http.put("/__receiver/responses", json=rules)))
