"""The journal (GET/DELETE /__admin/journal) and state snapshots, reset, fixtures."""

from __future__ import annotations

import httpx
import pytest

from uniqodo_mock.admin_client import AdminError
from uniqodo_mock.testing.mock import DISTRIBUTOR_KEY, MERCHANT_KEY, RunningMock

QUERIES = (
    f"/distributor/{DISTRIBUTOR_KEY}/query/user-redemption/5e0a3c1d9b7f4a2e8c6d1f0b3a5e7c9d?userId=QA-1",
    f"/validate/{MERCHANT_KEY}/AB12E3GH/1",
    f"/validate/{MERCHANT_KEY}/BF39KD2H/1",
    f"/offers/{DISTRIBUTOR_KEY}/json",
)


def test_typo_is_explained_with_the_nearest_known_code(sqlite_mock: RunningMock) -> None:
    body = sqlite_mock.get(f"/validate/{MERCHANT_KEY}/AB12E3GX/1?locale=en").json()
    assert body["errors"][0]["code"] == 204
    reference = body["errors"][0]["reference"]

    [entry] = sqlite_mock.admin.journal.list(reference=reference)
    assert entry["operation"] == "validate_code" and entry["code"] == "AB12E3GX"
    assert entry["params"] == {"locale": "en"} and entry["api_key"] == MERCHANT_KEY
    why = entry["errors"][0]["why"]
    assert why["nearest"] == "AB12E3GH"
    assert why["looked_up"] == "AB12E3GX" and why["parameter"] == "code"


def test_requests_rejected_before_a_handler_are_journaled(sqlite_mock: RunningMock) -> None:
    assert sqlite_mock.get(f"/code/{DISTRIBUTOR_KEY}/abc").status_code == 400
    assert sqlite_mock.get("/nowhere").status_code == 404
    entries = sqlite_mock.admin.journal.list(status=400)
    assert [e["path"] for e in entries] == [f"/code/{DISTRIBUTOR_KEY}/abc"]
    assert entries[0]["operation"] == "get_code" and entries[0]["errors"][0]["code"] == 330
    assert "offer_id" in entries[0]["errors"][0]["why"]["reason"]
    assert sqlite_mock.admin.journal.list(status=404)[0]["path"] == "/nowhere"


def test_filters_limit_and_clear(sqlite_mock: RunningMock) -> None:
    for path in QUERIES:
        sqlite_mock.get(path)
    journal = sqlite_mock.admin.journal
    assert [e["operation"] for e in journal.list()] == [
        "list_offers",
        "validate_code",
        "validate_code",
        "distributor_query",
    ]
    assert len(journal.list(operation="validate_code")) == 2
    assert [e["code"] for e in journal.list(code="bf39kd2h")] == ["BF39KD2H"]
    assert len(journal.list(key=DISTRIBUTOR_KEY)) == 2
    assert len(journal.list(limit=1)) == 1
    assert journal.list(since="2999-01-01T00:00:00Z") == []
    redeemed = journal.list(code="BF39KD2H")[0]["errors"][0]["code"]
    assert [e["code"] for e in journal.list(error=redeemed)] == ["BF39KD2H"]
    with pytest.raises(AdminError) as caught:
        journal.list(limit="many")
    assert caught.value.status == 400 and "limit" in caught.value.problems[0]
    assert journal.clear() == 4 + 0
    assert journal.list() == []


def _answers(mock: RunningMock) -> list[dict]:  # type: ignore[type-arg]
    out = []
    for path in QUERIES:
        # References stay: derived from the seed and the request, never random, the same
        # state answers them again.
        body = mock.get(path).json()
        if body["data"] and "val_key" in body["data"]:
            body["data"].pop("val_key")  # a new validation key per call, by design
        out.append(body)
    return out


def test_snapshot_reset_restore_gives_identical_answers(mock: RunningMock) -> None:
    redeem = f"/redeem/{MERCHANT_KEY}/AB12E3GH/1?orderId=SNAP-1&orderValue=80&userId=QA-1"
    assert mock.get(redeem).json()["result"] == "success"
    code = mock.get(f"/code/{DISTRIBUTOR_KEY}/1234?uid=QA-1").json()
    assert code["result"] == "success"
    before = _answers(mock)
    snapshot = mock.admin.snapshot()
    assert snapshot["format"] == "uniqodo-mock-snapshot/1"

    mock.admin.reset()
    assert _answers(mock) != before  # the redemption and the issued code are gone

    restored = mock.admin.restore(snapshot)
    assert restored["restored"]["redemptions"] == len(snapshot["tables"]["redemptions"])
    assert _answers(mock) == before
    assert mock.admin.snapshot()["tables"] == snapshot["tables"]
    # New rows after a restore get fresh ids (PostgreSQL sequences moved past the restored ids).
    again = mock.get(f"/code/{DISTRIBUTOR_KEY}/1234?uid=QA-2").json()
    assert again["result"] == "success"


def test_bad_snapshot_is_refused_and_nothing_is_lost(mock: RunningMock) -> None:
    snapshot = mock.admin.snapshot()
    broken = {**snapshot, "tables": {**snapshot["tables"]}}
    broken["tables"]["codes"] = [{**snapshot["tables"]["codes"][0], "issued_at": "soon"}]
    broken["tables"]["nonsense"] = []
    with pytest.raises(AdminError) as caught:
        mock.admin.restore(broken)
    assert caught.value.status == 400
    assert any("tables.nonsense" in p for p in caught.value.problems)
    assert any("tables.codes[0].issued_at" in p for p in caught.value.problems)
    dangling = {**snapshot, "tables": {**snapshot["tables"], "offers": []}}
    with pytest.raises(AdminError) as caught:
        mock.admin.restore(dangling)
    assert caught.value.status == 400
    with pytest.raises(AdminError):
        mock.admin.restore({"format": "something else"})
    assert mock.admin.snapshot()["tables"] == snapshot["tables"]


def test_load_other_fixtures_then_reset_returns_to_them(sqlite_mock: RunningMock) -> None:
    response = httpx.put(
        sqlite_mock.url + "/__admin/fixtures",
        content=b"version: 1\nmerchants: nope\n",
        headers={"Content-Type": "application/yaml"},
    )
    assert response.status_code == 400
    assert all("PUT /__admin/fixtures:" in e["message"] for e in response.json()["errors"])
    assert sqlite_mock.get(QUERIES[1]).json()["result"] == "success"  # nothing lost
