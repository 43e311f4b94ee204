"""The QA page in headless Chromium (Debian's package): live list, detail, escaping.

Fails (never skips) when chromium is missing: CI installs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.chromium import ARGS, CHROMIUM

from uniqodo_mock.receiver.settings import ReceiverSettings
from uniqodo_mock.receiver.testing import RunningReceiver, running_receiver

HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'

pytestmark = pytest.mark.browser


@pytest.fixture
def live(tmp_path: Path) -> Iterator[RunningReceiver]:
    settings = ReceiverSettings(db_url=f"sqlite:///{tmp_path / 'calls.db'}", poll_interval=0.05)
    with running_receiver(settings) as receiver:
        yield receiver


@pytest.fixture
def page():  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is required: apt-get install chromium"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_page_lists_a_call_live_and_escapes_a_hostile_payload(live: RunningReceiver, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live.url}/__receiver/")
    page.wait_for_selector("#live.on")  # the event stream is connected
    assert page.locator("#calls tbody tr").count() == 0

    httpx.post(
        f"{live.url}/hook?x={HOSTILE}",
        content=f"code=AB12E3GH&orderId={HOSTILE}",
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Evil": HOSTILE},
    )
    row = page.locator("#calls tbody tr").first
    row.wait_for()  # appeared without a reload
    assert "/hook" in row.inner_text()

    row.click()
    page.wait_for_selector("#detail:not([hidden])")
    body = page.locator("#detail-body").inner_text()
    assert HOSTILE.replace(" ", "+") in body or "orderId=" in body
    # The payload is shown as text, in the params table and the headers table ...
    assert HOSTILE in page.locator("#detail-params").inner_text()
    assert HOSTILE in page.locator("#detail-headers").inner_text()
    # ... and never became markup, never ran.
    assert page.locator("#detail script, #calls script, #detail img, #calls img").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert "conform" in page.locator("#detail-verdict").inner_text().lower()


def test_filters_in_the_url_and_export_links(live: RunningReceiver, page) -> None:  # type: ignore[no-untyped-def]
    httpx.post(
        f"{live.url}/a",
        content="code=ONE",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    httpx.post(
        f"{live.url}/b",
        content="code=TWO",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    page.goto(f"{live.url}/__receiver/?param=code:TWO")
    page.wait_for_selector("#live.on")
    rows = page.locator("#calls tbody tr")
    assert rows.count() == 1 and "/b" in rows.first.inner_text()
    href = page.locator("#export-csv").get_attribute("href")
    assert href is not None and "format=csv" in href and "param=code%3ATWO" in href
    csv = httpx.get(f"{live.url}{href}").text
    assert "code=TWO" in csv and "code=ONE" not in csv
