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

__all__ = ["AdminClient", "AdminError", "ClockControl", "FaultControl", "JournalControl"]


class AdminError(RuntimeError):
    """The admin API refused a request; ``problems`` are the envelope's messages."""

    def __init__(self, status: int, problems: list[str]) -> None:
        super().__init__(f"HTTP {status}: " + "; ".join(problems))
        self.status = status
        self.problems = problems


def _check(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        try:
            errors = response.json().get("errors") or []
            problems = [str(e.get("message")) for e in errors] or [response.text]
        except ValueError:
            problems = [response.text]
        raise AdminError(response.status_code, problems)
    return response.json()


class ClockControl:
    def __init__(self, http: httpx.Client) -> None:
        self._http = http

    def show(self) -> dict[str, Any]:
        return _check(self._http.get("/__admin/clock"))

    def set(self, now: datetime | str, *, frozen: bool = False) -> dict[str, Any]:
        value = now.isoformat() if isinstance(now, datetime) else now
        return _check(self._http.put("/__admin/clock", json={"now": value, "frozen": frozen}))

    def freeze(self, now: datetime | str) -> dict[str, Any]:
        return self.set(now, frozen=True)

    def offset(self, seconds: float) -> dict[str, Any]:
        return _check(self._http.put("/__admin/clock", json={"offset_seconds": seconds}))

    def real(self) -> dict[str, Any]:
        return _check(self._http.delete("/__admin/clock"))


class FaultControl:
    def __init__(self, http: httpx.Client) -> None:
        self._http = http

    def add(self, rule: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        """``add(path="/redeem/", status=503)`` or ``add({...})``; returns the rule with id."""
        return _check(self._http.post("/__admin/faults", json={**(rule or {}), **fields}))

    def list(self) -> list[dict[str, Any]]:
        return _check(self._http.get("/__admin/faults"))["faults"]

    def delete(self, rule_id: int) -> None:
        _check(self._http.delete(f"/__admin/faults/{rule_id}"))

    def clear(self) -> int:
        return _check(self._http.delete("/__admin/faults"))["deleted"]


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
        return _check(self._http.get("/__admin/journal", params=params))["entries"]

    def clear(self) -> int:
        return _check(self._http.delete("/__admin/journal"))["cleared"]


class AdminClient:
    def __init__(self, url: str, *, token: str | None = None, timeout: float = 30) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)
        self.clock = ClockControl(self._http)
        self.faults = FaultControl(self._http)
        self.journal = JournalControl(self._http)

    def wait_ready(self, deadline: float = 30) -> None:
        """Poll ``/__admin/health`` until it answers 200 (or ``deadline`` seconds pass)."""
        try:
            wait_healthy(f"{self.url}/__admin/health", timeout=deadline)
        except RuntimeError as error:
            raise TimeoutError(f"{self.url} did not become ready in {deadline} s") from error

    def reset(self) -> dict[str, Any]:
        return _check(self._http.post("/__admin/reset"))

    def snapshot(self) -> dict[str, Any]:
        return _check(self._http.get("/__admin/snapshot"))

    def restore(self, snapshot: dict[str, Any]) -> dict[str, Any]:
        return _check(self._http.put("/__admin/snapshot", json=snapshot))

    def load_fixtures(self, text: str) -> dict[str, Any]:
        return _check(
            self._http.put(
                "/__admin/fixtures", content=text, headers={"Content-Type": "application/yaml"}
            )
        )

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
