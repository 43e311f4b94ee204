"""The merchant tags in headless Chromium, on a shop served from another origin than the mock.

The shop's pages are production pages (``https://www.uqd.io/1.js``,
``https://track.uniqodo.com/1.js``) with only the two script hosts changed to the mock's, served
by a small static server under the host name ``shop.test`` (mapped to 127.0.0.1 in the
browser), so every API call the tags make is a cross-origin ``fetch``. The journey: a landing
page with ``?uqd=AB12E3GH``, a basket, the order confirmation, then the redemption in the
publisher query and its callback at the receiver. Then the demo shop at ``/__demo/shop/``, as QA
clicks through it. Fails (never skips) when chromium is missing: CI installs it.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from tests.chromium import ARGS, CHROMIUM

pytestmark = pytest.mark.browser

KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"
PROMOTION = "0821f4190897965c33eaca7954db5f23"
SHOP_HOST = "shop.test"

# A merchant's page as built for production. Before the tags, the page records what the tags
# tell it (events) and sets UNIQODO (on the order confirmation: the order's data).
PRODUCTION_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<script>
  window.seen = [];
  for (const type of ["uniqodo:validated", "uniqodo:error", "uniqodo:redeemed", "uniqodo:conversion"]) {{
    document.addEventListener(type, function (event) {{ window.seen.push({{type: type, detail: event.detail}}); }});
  }}
  {setup}
</script>
<script src="https://www.uqd.io/1.js"></script>
{redemption_tag}
</head>
<body><h1>{title}</h1>
<script>{after}</script>
</body>
</html>
"""
REDEMPTION_TAG = '<script src="https://track.uniqodo.com/1.js"></script>'


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Shop:
    """A merchant's site on its own origin: pages written to ``root``, served over HTTP."""

    root: Path
    url: str
    mock_url: str

    def page(
        self,
        name: str,
        *,
        setup: str = "",
        after: str = "",
        redemption: bool = False,
    ) -> str:
        html = PRODUCTION_PAGE.format(
            title=name,
            setup=setup,
            after=after,
            redemption_tag=REDEMPTION_TAG if redemption else "",
        )
        # Built for production; against the mock only the two script hosts change.
        html = html.replace("https://www.uqd.io/", f"{self.mock_url}/uqd/")
        html = html.replace("https://track.uniqodo.com/", f"{self.mock_url}/track/")
        (self.root / f"{name}.html").write_text(html, encoding="utf-8")
        return f"{self.url}/{name}.html"


@pytest.fixture
def shop(tmp_path: Path, uniqodo_mock: Any) -> Iterator[Shop]:
    root = tmp_path / "shop"
    root.mkdir()
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, name="shop", daemon=True)
    thread.start()
    try:
        yield Shop(root, f"http://{SHOP_HOST}:{server.server_address[1]}", uniqodo_mock.url)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@dataclass
class Browser:
    """One browser context (its own cookies) and one page, with what the page saw."""

    context: Any
    page: Any
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def cookies(self) -> dict[str, Any]:
        return {c["name"]: c for c in self.context.cookies()}

    def requests_to(self, fragment: str) -> list[str]:
        return [url for url in self.requests if fragment in url]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is required: apt-get install chromium"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[*ARGS, f"--host-resolver-rules=MAP {SHOP_HOST} 127.0.0.1"],
            headless=True,
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser(chromium: Any) -> Iterator[Browser]:
    context = chromium.new_context()
    page = context.new_page()
    seen = Browser(context, page)
    page.on("pageerror", lambda error: seen.page_errors.append(str(error)))
    page.on("request", lambda request: seen.requests.append(request.url))
    try:
        yield seen
    finally:
        context.close()


def journal(uniqodo_mock: Any, operation: str) -> list[dict[str, Any]]:
    """The mock's journal entries of one operation, oldest first."""
    return list(reversed(uniqodo_mock.journal.list(operation=operation)))


def confirmation_setup(**order: Any) -> str:
    """A confirmation page's UNIQODO, as JavaScript (values given as JavaScript expressions)."""
    fields = ", ".join(f"{name}: {value}" for name, value in order.items())
    return f"window.UNIQODO = {{orderConfirmation: true, {fields}}};"


def arrive_with_code(browser: Browser, shop: Shop, code: str, extra: str = "") -> dict[str, Any]:
    browser.page.goto(shop.page("landing") + f"?uqd={code}{extra}")
    return browser.page.evaluate("() => UNIQODO.ready")


# ---------------------------------------------------------------------------- the journey


def test_a_whole_journey_on_a_shop_of_another_origin(
    uniqodo_mock: Any, callback_receiver: Any, shop: Shop, browser: Browser
) -> None:
    page = browser.page
    # 1. Landing with ?uqd=: the code is stored and validated.
    validated = arrive_with_code(browser, shop, "AB12E3GH")
    assert validated["type"] == "validated"
    assert validated["code"] == "AB12E3GH" and validated["triggerCode"] == "XMAS10"
    cookies = browser.cookies()
    assert cookies["_uqd_c"]["value"] == "AB12E3GH"
    assert cookies["_uqd_v_v"]["value"] == "AB12E3GH"
    assert cookies["_uqd_v_trg"]["value"] == "XMAS10"
    val_key = cookies["_uqd_v_pn"]["value"]
    assert val_key == validated["valKey"]
    assert 3000 < cookies["_uqd_v_pn"]["expires"] - time.time() <= 3600
    assert cookies["_uqd_c"]["domain"] == SHOP_HOST  # the merchant's own cookies
    assert page.evaluate("() => [UNIQODO.triggerCode, UNIQODO.code, UNIQODO.valKey]") == [
        "XMAS10",
        "AB12E3GH",
        val_key,
    ]
    assert [event["type"] for event in page.evaluate("() => seen")] == ["uniqodo:validated"]
    first = journal(uniqodo_mock, "validate_code")
    assert [(e["path"], e["params"].get("pn")) for e in first] == [
        ("/validate/50d858e0985ecc7f60418aaf0cc5ab587f42c257/AB12E3GH/1", None)
    ]

    # 2. The basket: the stored trigger code is there at once; validating again with the
    # basket's data sends the previous val_key as pn.
    page.goto(shop.page("basket", after="window.again = UNIQODO.validate({basketTotal: 145});"))
    assert page.evaluate("() => UNIQODO.triggerCode") == "XMAS10"
    again = page.evaluate("() => window.again")
    assert again["type"] == "validated" and again["valKey"] == val_key
    basket_call = journal(uniqodo_mock, "validate_code")[-1]
    assert basket_call["params"]["pn"] == val_key
    assert basket_call["params"]["basketTotal"] == "145"

    # 3. The order confirmation: the redemption tag redeems the stored code.
    setup = confirmation_setup(
        orderId='"ORDER-1"',
        orderValue="108.75",
        currency='"GBP"',
        email='"shopper@example.com"',
        p1='"basket-7"',
        p2="42",
    )
    page.goto(shop.page("confirmation", setup=setup, redemption=True))
    redeemed = page.evaluate("() => UNIQODO.redemptionDone")
    assert redeemed["type"] == "redeemed", redeemed
    assert redeemed["code"] == "AB12E3GH" and redeemed["orderId"] == "ORDER-1"
    assert page.evaluate("() => UNIQODO.redemptionKey") == redeemed["redemptionKey"]
    [call] = journal(uniqodo_mock, "redeem_code")
    assert call["path"] == "/redeem/50d858e0985ecc7f60418aaf0cc5ab587f42c257/AB12E3GH/1"
    assert call["params"] == {
        "orderId": "ORDER-1",
        "orderValue": "108.75",
        "currency": "GBP",
        "email": "shopper@example.com",
        "triggerCode": "XMAS10",
        "p1": "basket-7",
        "p2": "42",
        "valKey": val_key,
        "redemptionType": "integration",
    }
    assert call["status"] == 200 and call["errors"] == []
    assert journal(uniqodo_mock, "vcot_conversion") == []  # no affiliate: no conversion

    # 4. The publisher query shows the order, under the email sent (AB12E3GH was issued to
    # nobody in particular).
    records = httpx.get(
        f"{uniqodo_mock.url}/publisher/{KEY}/query/user-redemption/{PROMOTION}",
        params={"userId": "shopper@example.com"},
    ).json()["data"]["redemption"]["records"]
    assert [(r["code"], r["order_id"], r["order_value"], r["currency"]) for r in records] == [
        ("AB12E3GH", "ORDER-1", 108.75, "GBP")
    ]
    assert records[0]["custom_params"] == '{"p1":"basket-7","p2":"42"}'

    # 5. The receiver recorded the redemption's callback.
    callback = callback_receiver.wait_for(timeout=20, code="AB12E3GH")
    assert {p["name"]: p["value"] for p in callback["params"]}["orderId"] == "ORDER-1"

    # 6. A second confirmation of the same code: error 201, told to the page.
    page.goto(
        shop.page(
            "confirmation-2",
            setup=confirmation_setup(orderId='"ORDER-2"', orderValue="20", currency='"GBP"'),
            redemption=True,
        )
    )
    refused = page.evaluate("() => UNIQODO.redemptionDone")
    assert refused["type"] == "error" and refused["code"] == 201
    assert refused["message"] == "This code has already been redeemed and can no longer be used."
    assert page.evaluate("() => UNIQODO.lastError.code") == 201
    assert [e["detail"]["code"] for e in page.evaluate("() => seen")] == [201]
    assert browser.page_errors == []


def test_validation_errors_reach_the_page(uniqodo_mock: Any, shop: Shop, browser: Browser) -> None:
    page = browser.page
    unknown = arrive_with_code(browser, shop, "NOSUCHCODE1")
    assert unknown["type"] == "error" and unknown["code"] == 204
    assert unknown["message"] == "The code entered is not recognised." and unknown["reference"]
    assert page.evaluate("() => [UNIQODO.triggerCode, UNIQODO.lastError.code]") == [None, 204]
    assert [e["type"] for e in page.evaluate("() => seen")] == ["uniqodo:error"]
    assert browser.cookies()["_uqd_c"]["value"] == "NOSUCHCODE1"
    assert "_uqd_v_trg" not in browser.cookies()

    basket = arrive_with_code(browser, shop, "BASKET01")
    assert basket["code"] == 306
    assert basket["promotionSpecificError"] == "Spend at least £1,000,000 to use this code."

    used = arrive_with_code(browser, shop, "REDEEMED01")
    assert used["code"] == 201

    # The shop may also set a code itself.
    valid = page.evaluate("() => UNIQODO.setCode('  AB12E3GH ')")
    assert valid["type"] == "validated" and valid["triggerCode"] == "XMAS10"
    assert browser.cookies()["_uqd_c"]["value"] == "AB12E3GH"
    assert page.evaluate("() => [UNIQODO.triggerCode, UNIQODO.lastError]") == ["XMAS10", None]
    assert browser.page_errors == []


# ---------------------------------------------------------------------------- refusals


def test_a_confirmation_without_total_or_currency_calls_nothing(
    uniqodo_mock: Any, shop: Shop, browser: Browser
) -> None:
    assert arrive_with_code(browser, shop, "AB12E3GH")["type"] == "validated"
    page = browser.page
    cases = {
        "no-total": confirmation_setup(orderId='"ORDER-9"', currency='"GBP"'),
        "no-currency": confirmation_setup(orderId='"ORDER-9"', orderValue="10"),
        "no-order-id": confirmation_setup(orderValue="10", currency='"GBP"'),
    }
    messages = []
    for name, setup in cases.items():
        page.goto(shop.page(name, setup=setup, redemption=True))
        outcome = page.evaluate("() => UNIQODO.redemptionDone")
        assert outcome["type"] == "error" and outcome["reason"] == "invalid_order", name
        assert page.evaluate("() => seen.map(e => e.detail.reason)") == ["invalid_order"]
        messages.append(outcome["message"])
    assert "UNIQODO.orderValue is missing" in messages[0]
    assert "UNIQODO.currency is missing" in messages[1]
    assert "UNIQODO.orderId is missing" in messages[2]
    # Nothing was called: neither the mock's journal nor the browser saw a redemption.
    assert journal(uniqodo_mock, "redeem_code") == []
    assert browser.requests_to("/redeem/") == []
    assert browser.page_errors == []


BAD_PAGES = {
    # The total not a number, in the ways pages get it wrong.
    "comma-total": confirmation_setup(orderId='"O"', orderValue='"12,50"', currency='"GBP"'),
    "text-total": confirmation_setup(orderId='"O"', orderValue='"abc"', currency='"GBP"'),
    "nan-total": confirmation_setup(orderId='"O"', orderValue="NaN", currency='"GBP"'),
    "object-total": confirmation_setup(orderId='"O"', orderValue="{value: 10}", currency='"GBP"'),
    # Huge strings and wrong types.
    "huge-order-id": confirmation_setup(
        orderId='"x".repeat(1000000)', orderValue="10", currency='"GBP"'
    ),
    "huge-total": confirmation_setup(
        orderId='"O"', orderValue='"9".repeat(100000)', currency='"GBP"'
    ),
    "number-currency": confirmation_setup(orderId='"O"', orderValue="10", currency="826"),
    "array-order-id": confirmation_setup(orderId="[1, 2]", orderValue="10", currency='"GBP"'),
    "throwing-order-id": confirmation_setup(
        orderId="{toString() { throw new Error('boom'); }}", orderValue="10", currency='"GBP"'
    ),
    "throwing-getter": "window.UNIQODO = {orderConfirmation: true, orderId: 'O', currency: 'GBP',"
    " get orderValue() { throw new Error('boom'); }};",
    "frozen": "window.UNIQODO = Object.freeze({orderConfirmation: true, orderId: 'O'});",
    # UNIQODO itself of the wrong type, for both tags.
    "string-uniqodo": "window.UNIQODO = 'yes please';",
    "number-uniqodo": "window.UNIQODO = 42;",
}


def test_bad_values_in_uniqodo_never_throw_into_the_page(
    uniqodo_mock: Any, shop: Shop, browser: Browser
) -> None:
    assert arrive_with_code(browser, shop, "AB12E3GH")["type"] == "validated"
    page = browser.page
    for name, setup in BAD_PAGES.items():
        page.goto(shop.page(name, setup=setup, redemption=True))
        outcome = page.evaluate(
            "() => (typeof UNIQODO === 'object' && UNIQODO.redemptionDone) || null"
        )
        if outcome is not None:
            assert outcome["type"] == "error" and outcome["reason"] == "invalid_order", name
    # The visit tag's own entry points, given nonsense.
    page.goto(shop.page("visit-nonsense"))
    outcomes = page.evaluate(
        """async () => [
            await UNIQODO.setCode(null),
            await UNIQODO.setCode({code: 'AB12E3GH'}),
            await UNIQODO.setCode('x'.repeat(100000)),
            await UNIQODO.setCode(''),
        ]"""
    )
    assert [o["reason"] for o in outcomes] == ["invalid_code"] * 4
    odd_params = page.evaluate(
        "() => UNIQODO.validate({'bad name': 1, nested: {a: 1}, huge: 'x'.repeat(5000), ok: 7})"
    )
    assert odd_params["type"] == "validated"
    assert journal(uniqodo_mock, "validate_code")[-1]["params"]["ok"] == "7"
    assert not {"bad name", "nested", "huge"} & set(
        journal(uniqodo_mock, "validate_code")[-1]["params"]
    )
    assert journal(uniqodo_mock, "redeem_code") == []
    assert browser.requests_to("/redeem/") == []
    # Bad optional values are left out; the redemption goes ahead with the rest.
    setup = confirmation_setup(
        orderId="145789",
        orderValue="219.99",
        currency='"gbp"',
        email='"e".repeat(5000)',
        p1="{nested: true}",
        p2='"kept"',
        discount='"lots"',
    )
    page.goto(shop.page("optional-nonsense", setup=setup, redemption=True))
    assert page.evaluate("() => UNIQODO.redemptionDone")["type"] == "redeemed"
    [call] = journal(uniqodo_mock, "redeem_code")
    assert {k: v for k, v in call["params"].items() if k != "valKey"} == {
        "orderId": "145789",
        "orderValue": "219.99",
        "currency": "GBP",
        "triggerCode": "XMAS10",
        "p2": "kept",
        "redemptionType": "integration",
    }
    assert browser.page_errors == []


# ---------------------------------------------------------------------------- affiliates


def test_an_affiliate_conversion_is_reported_with_the_redemption_key(
    uniqodo_mock: Any, shop: Shop, browser: Browser
) -> None:
    pixel = "https://affiliate.example/pixel?click=42"
    arrived = arrive_with_code(browser, shop, "AB12E3GH", "&awcb=" + quote(pixel, safe=""))
    assert arrived["type"] == "validated"
    assert browser.cookies()["_uqd_awcb"]["value"]
    page = browser.page
    setup = confirmation_setup(
        orderId='"ORDER-AFF"', orderValue="50", currency='"GBP"', user='"affiliate-fan@example.com"'
    )
    page.goto(shop.page("confirmation", setup=setup, redemption=True))
    redeemed = page.evaluate("() => UNIQODO.redemptionDone")
    assert redeemed["type"] == "redeemed"
    token = redeemed["awcToken"]
    assert token and page.evaluate("() => UNIQODO.awcToken") == token
    [conversion] = journal(uniqodo_mock, "vcot_conversion")
    assert conversion["params"] == {
        "redemptionKey": redeemed["redemptionKey"],
        "awcb": pixel,
        "advertiserId": "1",
    }
    types = page.evaluate("() => seen.map(e => e.type)")
    assert types == ["uniqodo:redeemed", "uniqodo:conversion"]
    # The token is on the redemption's record, under the user the page named.
    records = httpx.get(
        f"{uniqodo_mock.url}/publisher/{KEY}/query/user-redemption/{PROMOTION}",
        params={"userId": "affiliate-fan@example.com"},
    ).json()["data"]["redemption"]["records"]
    assert [(r["order_id"], r["awc_token"]) for r in records] == [("ORDER-AFF", token)]
    assert browser.page_errors == []


# ---------------------------------------------------------------------------- the demo shop


def test_qa_clicks_through_the_demo_shop(
    uniqodo_mock: Any, callback_receiver: Any, browser: Browser
) -> None:
    from playwright.sync_api import expect

    page = browser.page
    page.goto(f"{uniqodo_mock.url}/__demo/shop/")
    page.click("#code-link")
    expect(page.locator("#code-status")).to_contain_text("XMAS10")
    page.click("#basket-link")
    expect(page.locator("#trigger-code")).to_have_text("XMAS10")
    expect(page.locator("#validation-result")).to_contain_text("validated")
    expect(page.locator("#total")).to_have_text("108.75")  # 25% off 145.00
    page.fill("#email", "qa@example.com")
    page.click("#place-order")
    expect(page.locator("#redemption-result")).to_contain_text("Code AB12E3GH redeemed on order")
    order_id = page.locator("#order-id").text_content()
    call = callback_receiver.wait_for(timeout=20, code="AB12E3GH")
    assert {p["name"]: p["value"] for p in call["params"]}["orderId"] == order_id
    [redemption] = journal(uniqodo_mock, "redeem_code")
    assert redemption["params"]["orderValue"] == "108.75"
    assert redemption["params"]["email"] == "qa@example.com"
    # Confirming the same order again: the platform's 201, shown on the page.
    page.reload()
    expect(page.locator("#redemption-result")).to_contain_text("error 201")
    assert browser.page_errors == []
