"""The pytest plugin's fixtures as a partner's suite gets them (entry point pytest11)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from uniqodo_mock.receiver.client import WaitTimeout
from uniqodo_mock.store.schema import outbox

KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"


def _redeem(url: str, code: str, order_id: str) -> dict:
    valid = httpx.get(f"{url}/validate/{KEY}/{code}/1").json()
    assert valid["result"] == "success", valid
    query = {"orderId": order_id, "orderValue": "50", "valKey": valid["data"]["val_key"]}
    return httpx.get(f"{url}/redeem/{KEY}/{code}/1", params=query).json()


def test_redemptions_are_queued_for_the_receiver(uniqodo_mock, callback_receiver) -> None:
    assert _redeem(uniqodo_mock.url, "AB12E3GH", "A-1")["result"] == "success"
    repo = uniqodo_mock.runtime.repo
    with repo.read() as conn:
        rows = conn.execute(select(outbox.c.url, outbox.c.payload)).all()
    assert len(rows) == 1
    assert rows[0].url.startswith(callback_receiver.url)
    assert rows[0].payload["code"] == "AB12E3GH"
    assert rows[0].payload["orderId"] == "A-1"


def test_state_is_reset_between_tests(uniqodo_mock) -> None:
    # The previous test redeemed AB12E3GH; here it is fresh again, and nothing is queued.
    assert _redeem(uniqodo_mock.url, "AB12E3GH", "A-2")["result"] == "success"
    with uniqodo_mock.runtime.repo.read() as conn:
        assert conn.execute(select(outbox.c.id)).all() == []


def test_receiver_calls_and_wait_for(callback_receiver) -> None:
    assert callback_receiver.calls() == []
    httpx.post(f"{callback_receiver.url}/hook", data={"code": "ZZ1", "orderId": "9"})
    call = callback_receiver.wait_for(timeout=10, code="ZZ1")
    assert call["path"] == "/hook"
    assert [c["path"] for c in callback_receiver.calls(code="ZZ1")] == ["/hook"]
    with pytest.raises(WaitTimeout):
        callback_receiver.wait_for(timeout=0.5, code="never-sent")


pytest_plugins = ["pytester"]


def test_custom_fixture_file_option(pytester: pytest.Pytester) -> None:
    from uniqodo_mock.fixtures import DEFAULT_FIXTURES

    text = DEFAULT_FIXTURES.read_text().replace("AB12E3GH", "CUSTOM77")
    pytester.makefile(".yaml", mine=text)
    pytester.makepyfile(
        test_partner=f"""
import httpx
def test_custom(uniqodo_mock):
    body = httpx.get(uniqodo_mock.url + "/validate/{KEY}/CUSTOM77/1").json()
    assert body["result"] == "success", body
"""
    )
    result = pytester.runpytest_subprocess(
        "--uniqodo-fixtures", "mine.yaml", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=1)
