"""The virtual clock: PUT/GET/DELETE /__admin/clock."""

from __future__ import annotations

from uniqodo_mock.testing.mock import MERCHANT_KEY, RunningMock

VALIDATE = f"/validate/{MERCHANT_KEY}/AB12E3GH/1"


def test_frozen_past_end_date_fails_with_window_error_and_real_time_restores(
    mock: RunningMock,
) -> None:
    assert mock.get(VALIDATE).json()["result"] == "success"

    state = mock.admin.clock.freeze("2100-01-01T00:00:00Z")
    assert state["frozen"] is True and state["now"].startswith("2100-01-01T00:00:00")

    body = mock.get(VALIDATE).json()
    assert body["result"] == "failure"
    assert [e["code"] for e in body["errors"]] == [303]  # promotion_ended

    entry = mock.admin.journal.list(operation="validate_code", limit=1)[0]
    assert entry["mock_now"].startswith("2100-01-01T00:00:00")
    assert entry["errors"][0]["key"] == "promotion_ended"

    assert mock.admin.clock.real()["real"] is True
    assert mock.get(VALIDATE).json()["result"] == "success"


def test_offset_moves_now_and_persists_for_other_processes(mock: RunningMock) -> None:
    state = mock.admin.clock.offset(86400 * 365 * 100)
    assert state["offset_seconds"] == 86400 * 365 * 100 and state["frozen"] is False
    assert mock.get(VALIDATE).json()["errors"][0]["code"] == 303
    # Another process reads the shared state from the database.
    snapshot = mock.admin.snapshot()
    (clock,) = [row for row in snapshot["tables"]["meta"] if row["key"] == "clock"]
    assert clock["value"]["offset_seconds"] == 86400 * 365 * 100


def test_bad_clock_bodies_get_envelope_errors(sqlite_mock: RunningMock) -> None:
    for body in (
        {},
        {"now": "yesterday"},
        {"offset_seconds": "x"},
        {"now": "2030-01-01", "frozen": 1},
    ):
        response = httpx_put(sqlite_mock, "/__admin/clock", body)
        assert response.status_code == 400
        envelope = response.json()
        assert envelope["result"] == "failure" and envelope["data"] is None
        assert envelope["errors"][0]["message"]
    assert sqlite_mock.admin.clock.show()["real"] is True


def test_reset_returns_to_real_time(sqlite_mock: RunningMock) -> None:
    sqlite_mock.admin.clock.freeze("2100-01-01T00:00:00Z")
    sqlite_mock.admin.reset()
    assert sqlite_mock.admin.clock.show()["real"] is True
    assert sqlite_mock.get(VALIDATE).json()["result"] == "success"


def httpx_put(mock: RunningMock, path: str, body: object):  # type: ignore[no-untyped-def]
    import httpx

    return httpx.put(mock.url + path, json=body, timeout=10)
