"""The QA page in headless Chromium (Debian's package): live list, detail, escaping, the
callback's fields as columns, permalinks, folded long values, a layout that reads at 1280 px.

Fails (never skips) when chromium is missing: CI installs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.chromium import ARGS, CHROMIUM

from uniqodo_mock.receiver.settings import ReceiverSettings
from uniqodo_mock.testing.receiver import RunningReceiver, running_receiver

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# The nine redemption callback items, as the docs' example sends them.
NINE_ITEMS = (
    "id=126478&offerId=1256&merchantId=56&distributorId=102&code=XY23T4DF&orderValue=219.99"
    "&orderId=ABC123456&currency=USD&redeemedAt=2015-05-29T10%3A39%3A17%2B0000"
)
BIG = 60_000
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
    assert row.locator("td.col-orderId").inner_text() == HOSTILE  # a column, as text

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


def _record(url: str, path: str, body: str | bytes | None = None, **kwargs) -> int:  # type: ignore[no-untyped-def]
    """POST a call to the receiver; its id."""
    if body is not None:
        kwargs["content"] = body
    return int(httpx.post(f"{url}{path}", **kwargs).headers["x-receiver-call-id"])


def _cell(page, call_id: int, column: str) -> str:  # type: ignore[no-untyped-def]
    return page.locator(f'#calls tr[data-id="{call_id}"] td.col-{column}').inner_text()


def _detail_shows(page, call_id: int) -> None:  # type: ignore[no-untyped-def]
    # A function, not an expression: the page's CSP forbids eval, which expressions need.
    page.wait_for_function(
        "id => !document.getElementById('detail').hidden && "
        "document.getElementById('detail-title').textContent.startsWith(`Call #${id}:`)",
        arg=call_id,
    )


def _open(page, url: str, call_id: int) -> None:  # type: ignore[no-untyped-def]
    """A fresh load of the call's permalink; returns once its detail shows."""
    page.goto(f"{url}/__receiver/#/calls/{call_id}")
    page.wait_for_selector("#live.on")
    _detail_shows(page, call_id)


def test_columns_show_the_callback_fields(live: RunningReceiver, page) -> None:  # type: ignore[no-untyped-def]
    form = _record(live.url, "/callback", NINE_ITEMS, headers=FORM)
    renamed = int(
        httpx.get(f"{live.url}/hook", params={"voucher": "AB12E3GH", "order": "145789"}).headers[
            "x-receiver-call-id"
        ]
    )
    as_json = _record(live.url, "/json", json={"orderId": 42, "code": "JS0N"})
    page.goto(f"{live.url}/__receiver/")
    page.wait_for_selector("#live.on")
    assert _cell(page, form, "code") == "XY23T4DF"
    assert _cell(page, form, "orderId") == "ABC123456"
    fields = _cell(page, form, "fields")
    # The other callback items, in the documented order, id first.
    assert fields.startswith("id=126478") and "offerId=1256" in fields
    assert "orderValue=219.99" in page.locator(
        f'#calls tr[data-id="{form}"] td.col-fields'
    ).get_attribute("title")
    # A subscription's own names: no code column value, the recorded names in the fields.
    assert _cell(page, renamed, "code") == "" and "voucher=AB12E3GH" in _cell(
        page, renamed, "fields"
    )
    assert _cell(page, as_json, "code") == "JS0N" and _cell(page, as_json, "orderId") == "42"
    # A call arriving live gets the same columns.
    later = _record(live.url, "/callback", "code=LIVE1&orderId=777", headers=FORM)
    page.locator(f'#calls tr[data-id="{later}"]').wait_for()
    assert _cell(page, later, "code") == "LIVE1" and _cell(page, later, "orderId") == "777"


def test_a_permalink_opens_its_call_on_a_fresh_load(live: RunningReceiver, page) -> None:  # type: ignore[no-untyped-def]
    first = _record(live.url, "/a", "code=FIRST&orderId=1", headers=FORM)
    second = _record(live.url, "/b", "code=SECOND&orderId=2", headers=FORM)
    _open(page, live.url, second)
    assert page.locator("#detail-params").inner_text().count("SECOND") == 1
    assert page.locator(f'#calls tr[data-id="{second}"]').get_attribute("class") == "selected"
    assert page.locator("#detail-permalink").get_attribute("href") == f"#/calls/{second}"
    # Each row's id is the link to its call.
    link = page.locator(f'#calls tr[data-id="{first}"] td.col-id a')
    assert link.get_attribute("href") == f"#/calls/{first}"
    link.click()
    _detail_shows(page, first)
    assert page.url.endswith(f"/__receiver/#/calls/{first}")
    page.reload()
    _detail_shows(page, first)
    assert "FIRST" in page.locator("#detail-params").inner_text()
    page.go_back()  # the previous permalink, without a reload
    _detail_shows(page, second)
    page.click("#detail-close")
    assert page.locator("#detail").is_hidden() and "#/calls/" not in page.url
    # A permalink opens its call even when the page's filters do not list it.
    page.goto(f"{live.url}/__receiver/?param=code:SECOND#/calls/{first}")
    _detail_shows(page, first)
    assert page.locator("#calls tbody tr").count() == 1


def _height(page, selector: str) -> float:  # type: ignore[no-untyped-def]
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return box["height"]


def test_a_60kb_value_is_folded_and_expands_on_click(live: RunningReceiver, page) -> None:  # type: ignore[no-untyped-def]
    small = _record(live.url, "/hook", "code=SMALL&orderId=1", headers=FORM)
    big = _record(live.url, "/hook", f"code=BIG&orderId=2&note={'A' * BIG}", headers=FORM)
    _open(page, live.url, big)
    # The list: the big call's row is no taller than a small one.
    row_height = _height(page, f'#calls tr[data-id="{small}"]')
    assert _height(page, f'#calls tr[data-id="{big}"]') <= row_height * 1.2
    # The detail: the value is folded to a line and only its start is in the page.
    note = page.locator("#detail-params tbody tr", has_text="note")
    code_row = page.locator("#detail-params tbody tr", has_text="code")
    folded = note.bounding_box()["height"]
    assert folded <= code_row.bounding_box()["height"] * 1.5
    text = note.locator(".value .text")
    assert 0 < len(text.text_content()) < 1000
    button = note.locator("button.expand")
    assert button.is_visible() and "60,000" in button.inner_text()
    button.click()
    assert len(text.text_content()) == BIG  # the whole value, exactly
    expanded = note.bounding_box()["height"]
    assert folded < expanded <= page.viewport_size["height"] * 0.6  # a scroll box, not pages
    assert text.evaluate("node => node.scrollHeight > node.clientHeight")  # it scrolls
    button.click()  # and folds again
    assert len(text.text_content()) < 1000
    assert note.bounding_box()["height"] == folded


_MID_WORD_WRAPS = """selector => {
  // Every word (run of non-space characters) of every visible cell's text: its client rects
  // must lie on one line. A word broken across lines has rects on two lines.
  const broken = [];
  for (const cell of document.querySelectorAll(selector)) {
    if (cell.closest('.expanded')) continue;
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const match of node.data.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0)
          .map((r) => Math.round(r.top)));
        if (lines.size > 1) broken.push(match[0].slice(0, 60));
      }
    }
  }
  return broken;
}"""

_LIST_CELLS = """() => [...document.querySelectorAll('#calls th, #calls td')]
  .filter((cell) => cell.getClientRects().length > 0)
  .map((cell) => {
    const style = getComputedStyle(cell);
    return {white: style.whiteSpace, overflow: style.textOverflow,
            clipped: cell.scrollWidth > cell.clientWidth};
  })"""


def test_at_1280_with_the_detail_open_no_cell_wraps_mid_word(live: RunningReceiver, page) -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size({"width": 1280, "height": 800})
    ids = [
        _record(
            live.url, "/callback", NINE_ITEMS, headers={**FORM, "X-Uniqodo-Delivery-Id": "d-1"}
        ),
        _record(
            live.url,
            "/partners/acme/redemption-callbacks/v2/endpoint",
            json={"code": "AB12E3GH", "orderId": "ORDER-2024-000145789", "basket": [1, 2, 3]},
            headers={
                "User-Agent": ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 " * 3).strip()
            },
        ),
        _record(live.url, "/hook", f"code=BIG&orderId=3&note={'A' * BIG}", headers=FORM),
        _record(live.url, "/hook?voucher=AB12E3GH&order=145789&total=50.00", b"x"),
    ]
    _open(page, live.url, ids[0])
    cells = "#calls th, #calls td, #detail th, #detail td, #detail dt, #detail dd, #detail h2"
    for call_id in ids:
        page.locator(f'#calls tr[data-id="{call_id}"] td.col-method').click()
        _detail_shows(page, call_id)
        assert page.evaluate(_MID_WORD_WRAPS, cells) == [], f"call {call_id}"
        # List cells: one line each, an ellipsis where the text does not fit.
        list_cells = page.evaluate(_LIST_CELLS)
        assert {(c["white"], c["overflow"]) for c in list_cells} == {("nowrap", "ellipsis")}
        assert any(c["clipped"] for c in list_cells)  # the long path is cut, not wrapped
        rows = page.locator("#calls tbody tr")
        heights = {round(rows.nth(i).bounding_box()["height"]) for i in range(rows.count())}
        assert len(heights) == 1, heights  # every row one line high
    # Both panes side by side within the window, the list without a sideways scrollbar.
    layout = page.evaluate(
        """() => {
          const list = document.getElementById('list-pane'), detail = document.getElementById('detail');
          return {page: document.documentElement.scrollWidth, window: innerWidth,
                  listRight: list.getBoundingClientRect().right,
                  detailLeft: detail.getBoundingClientRect().left,
                  listScrolls: list.scrollWidth > list.clientWidth};
        }"""
    )
    assert layout["page"] <= layout["window"]
    assert layout["listRight"] <= layout["detailLeft"] and not layout["listScrolls"]
