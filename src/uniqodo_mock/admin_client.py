"""A small client for the mock's admin API (``/__admin``): what tests and scripts use to reset
state, read the journal, move the clock and inject faults.

    admin = AdminClient("http://127.0.0.1:8080")
    admin.clock.freeze("2031-01-01T00:00:00Z")
    rule = admin.faults.add(path="/redeem/", status=503)
    admin.journal.list(operation="validate_code")

The pytest plugin exposes the same objects as ``uniqodo_mock.clock``, ``uniqodo_mock.faults``
and ``uniqodo_mock.journal``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from uniqodo_mock.serving import wait_healthy

__all__ = [
    "AdminClient",
    "AdminError",
    "CallbackControl",
    "ClockControl",
    "FaultControl",
    "JournalControl",
    "UnexpectedAnswer",
]


class AdminError(RuntimeError):
    """The admin API refused a request, or answered a vendor error (``errors[]`` with HTTP 200,
    as the codes endpoints do). ``problems`` are the answer's messages, ``codes`` its vendor
    error numbers (empty when the answer carried none), ``url`` the request's URL."""

    def __init__(
        self,
        status: int,
        problems: list[str],
        *,
        url: str | None = None,
        codes: tuple[int, ...] = (),
    ) -> None:
        super().__init__(f"HTTP {status}: " + "; ".join(problems))
        self.status = status
        self.problems = problems
        self.url = url
        self.codes = codes


class UnexpectedAnswer(AdminError):
    """The answer is not what the admin API gives (not JSON, or not the expected type): the URL
    points at something else than a uniqodo-mock."""


def _problems(response: httpx.Response) -> tuple[list[str], tuple[int, ...]]:
    """The messages and vendor codes of an error answer, whatever its shape: the vendor
    envelope (``errors[]``), the admin guard's ``{"error", "message"}`` or a problem document
    (``title``/``detail``); else the start of its text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            messages = [str(e.get("message")) for e in errors if isinstance(e, dict)]
            numbers = tuple(
                int(e["code"])
                for e in errors
                if isinstance(e, dict) and isinstance(e.get("code"), int)
            )
            return messages or [str(errors)], numbers
        for key in ("message", "detail", "title"):
            if isinstance(body.get(key), str) and body[key]:
                return [body[key]], ()
    text = " ".join(response.text.split())[:200]
    return [text or response.reason_phrase or f"HTTP {response.status_code}"], ()


def _refused(response: httpx.Response) -> AdminError:
    try:
        response.json()
    except ValueError:
        # Not even JSON: a proxy's or another server's page, not the mock's refusal.
        return _not_json(response)
    problems, codes = _problems(response)
    return AdminError(response.status_code, problems, url=str(response.request.url), codes=codes)


def _not_json(response: httpx.Response, expected: str = "JSON") -> UnexpectedAnswer:
    kind = response.headers.get("content-type", "").split(";")[0] or "no content type"
    return UnexpectedAnswer(
        response.status_code,
        [f"HTTP {response.status_code} and not {expected} but {kind}"],
        url=str(response.request.url),
    )


def _check(response: httpx.Response, *keys: str, empty: bool = False) -> Any:
    """The JSON of a successful answer, an object holding ``keys``; ``empty``: the operation
    answers 204 No Content."""
    if response.status_code >= 400:
        raise _refused(response)
    if empty and response.status_code == 204:
        return None
    try:
        body = response.json()
    except ValueError:
        raise _not_json(response) from None
    if isinstance(body, dict) and body.get("result") == "failure":
        # The codes endpoints answer vendor errors the vendor's way: HTTP 200, ``errors[]``.
        raise _refused(response)
    if keys and not (isinstance(body, dict) and all(key in body for key in keys)):
        raise _not_json(response, "the admin API's JSON")
    return body


_CLOCK_FIELDS = ("now", "real", "frozen", "offset_seconds")


class ClockControl:
    def __init__(self, http: httpx.Client) -> None:
        self._http = http

    def show(self) -> dict[str, Any]:
        return _check(self._http.get("/__admin/clock"), *_CLOCK_FIELDS)

    def set(self, now: datetime | str, *, frozen: bool = False) -> dict[str, Any]:
        value = now.isoformat() if isinstance(now, datetime) else now
        return _check(
            self._http.put("/__admin/clock", json={"now": value, "frozen": frozen}), *_CLOCK_FIELDS
        )

    def freeze(self, now: datetime | str) -> dict[str, Any]:
        return self.set(now, frozen=True)

    def offset(self, seconds: float) -> dict[str, Any]:
        return _check(
            self._http.put("/__admin/clock", json={"offset_seconds": seconds}), *_CLOCK_FIELDS
        )

    def real(self) -> dict[str, Any]:
        return _check(self._http.delete("/__admin/clock"), *_CLOCK_FIELDS)


class FaultControl:
    def __init__(self, http: httpx.Client) -> None:
        self._http = http

    def add(self, rule: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        """``add(path="/redeem/", status=503)`` or ``add({...})``; returns the rule with id."""
        return _check(self._http.post("/__admin/faults", json={**(rule or {}), **fields}), "id")

    def list(self) -> list[dict[str, Any]]:
        return _check(self._http.get("/__admin/faults"), "faults")["faults"]

    def delete(self, rule_id: int) -> None:
        _check(self._http.delete(f"/__admin/faults/{rule_id}"), "deleted")

    def clear(self) -> int:
        return _check(self._http.delete("/__admin/faults"), "deleted")["deleted"]


class CallbackControl:
    """Redemption callback subscriptions (``/__admin/callbacks``)."""

    def __init__(self, http: httpx.Client) -> None:
        self._http = http

    def list(self) -> list[dict[str, Any]]:
        return _check(self._http.get("/__admin/callbacks"), "subscriptions")["subscriptions"]

    def create(self, subscription: dict[str, Any]) -> dict[str, Any]:
        return _check(self._http.post("/__admin/callbacks", json=subscription))

    def delete(self, subscription_id: int) -> None:
        _check(self._http.delete(f"/__admin/callbacks/{int(subscription_id)}"), empty=True)


class JournalControl:
    def __init__(self, http: httpx.Client) -> None:
        self._http = http

    def list(self, **filters: Any) -> list[dict[str, Any]]:
        """Newest first. Filters: operation, code, error, key, status, reference, since,
        until, limit."""
        params = {
            k: (v.isoformat() if isinstance(v, datetime) else v)
            for k, v in filters.items()
            if v is not None
        }
        return _check(self._http.get("/__admin/journal", params=params), "entries")["entries"]

    def clear(self) -> int:
        return _check(self._http.delete("/__admin/journal"), "cleared")["cleared"]


class AdminClient:
    def __init__(self, url: str, *, token: str | None = None, timeout: float = 30) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)
        self.clock = ClockControl(self._http)
        self.faults = FaultControl(self._http)
        self.journal = JournalControl(self._http)
        self.callbacks = CallbackControl(self._http)

    def wait_ready(self, deadline: float = 30) -> None:
        """Poll ``/__admin/health`` until it answers 200 (or ``deadline`` seconds pass)."""
        try:
            wait_healthy(f"{self.url}/__admin/health", timeout=deadline)
        except RuntimeError as error:
            raise TimeoutError(f"{self.url} did not become ready in {deadline} s") from error

    def reset(self) -> dict[str, Any]:
        return _check(self._http.post("/__admin/reset"), "fixtures")

    def snapshot(self) -> dict[str, Any]:
        return _check(self._http.get("/__admin/snapshot"), "format", "tables")

    def restore(self, snapshot: dict[str, Any]) -> dict[str, Any]:
        return _check(self._http.put("/__admin/snapshot", json=snapshot), "restored")

    def load_fixtures(self, text: str) -> dict[str, Any]:
        return _check(
            self._http.put(
                "/__admin/fixtures", content=text, headers={"Content-Type": "application/yaml"}
            )
        )

    def import_codes(self, offer_id: int, csv: bytes) -> int:
        """Upload personalised codes (UTF-8 CSV) to an offer; returns how many were imported.
        All lines or none: a bad line raises ``AdminError`` naming every problem."""
        response = self._http.post(
            f"/__admin/offers/{int(offer_id)}/codes",
            content=csv,
            headers={"Content-Type": "text/csv; charset=utf-8"},
        )
        body = _check(response, "data")
        if not isinstance(body["data"], dict) or "imported" not in body["data"]:
            raise _not_json(response, "the admin API's envelope")
        return int(body["data"]["imported"])

    def code_batch(self, offer_id: int, count: int) -> str:
        """``count`` fresh unique codes of an offer as CSV (``code,offer_id``), marked issued.
        Fewer left than asked: ``AdminError`` with vendor code 206, and nothing is issued."""
        response = self._http.post(
            f"/__admin/offers/{int(offer_id)}/codes/batch", params={"count": count}
        )
        if response.status_code < 400 and response.headers.get("content-type", "").startswith(
            "text/csv"
        ):
            return response.text
        _check(response)  # an error envelope raises AdminError
        raise _not_json(response, "CSV")

    # Raw requests relative to ``/__admin`` (``admin.get("/health")``), for what the
    # controls above do not cover; they return the response unchecked.
    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self._http.request(method, "/__admin" + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AdminClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
