"""Embeddable codes, user code enquiry and email codes through HTTP; the demo page in Chromium."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from tests.chromium import ARGS, CHROMIUM
from tests.features_helpers import DIST, DIST103, MERCHANT, features_app, running_features_mock

UUID = "f0000000000000000000000000007015"
CLAIM = "demo-claim-7015"


@pytest.fixture
def client(tmp_path):
    with features_app(f"sqlite:///{tmp_path / 'mock.db'}").test_client() as c:
        yield c


def test_embeddable_code_by_claim_credential_and_distributor_key(client):
    body = client.get(f"/embeddable/v2/{CLAIM}/{UUID}?uid=visitor-1").json()
    assert body["result"] == "success" and body["errors"] == []
    data = body["data"]
    assert data["discount"]["discount_amount"] == 12
    assert data["url"] == f"https://shop.example/reveal?code={data['code']}"
    again = client.get(f"/embeddable/v2/{DIST}/{UUID}?uid=visitor-1").json()["data"]["code"]
    assert again == data["code"]
    refused = client.get(f"/embeddable/v2/{DIST103}/{UUID}?uid=v").json()
    assert refused["result"] == "failure" and refused["errors"][0]["code"] == 312


def test_user_code_enquiry_answers_null_then_the_code_and_its_use(client):
    url = f"/user-code-enquiry/{MERCHANT}/{UUID}?email=gate@example.com"
    assert client.get(url).json()["data"] is None
    code = client.get(f"/embeddable/v2/{CLAIM}/{UUID}?email=gate@example.com").json()["data"][
        "code"
    ]
    data = client.get(url).json()["data"]
    assert data["code"] == code and data["redemption_records"] == []
    client.get(f"/redeem/{MERCHANT}/{code}/1?orderId=G1&orderValue=50&email=gate@example.com")
    records = client.get(url).json()["data"]["redemption_records"]
    assert [r["order_id"] for r in records] == ["G1"]


def test_email_code_png_is_the_same_code_for_the_same_address(client):
    first = client.get(f"/__email/{UUID}/code.png?email=Ann@Example.com&key={CLAIM}")
    assert first.status_code == 200 and first.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(first.content))
    assert image.format == "PNG" and image.width >= 320
    link = client.get(f"/__email/{UUID}/link?email=ann@example.com&key={CLAIM}").json()
    assert link["result"] == "success"
    code = link["data"]["code"]
    assert (
        f"/__email/{UUID}/code.png?email=ann%40example.com&key={CLAIM}" in link["data"]["image_url"]
    )
    assert link["data"]["html"].startswith(f'<a href="https://shop.example/reveal?code={code}">')
    # Same address (any case): same code and the same image bytes.
    again = client.get(f"/__email/{UUID}/code.png?email=ann@example.com&key={CLAIM}")
    assert again.content == first.content
    other = client.get(f"/__email/{UUID}/link?email=bob@example.com&key={CLAIM}").json()
    assert other["data"]["code"] != code


def test_email_code_with_a_bad_key_is_an_envelope_error(client):
    response = client.get(f"/__email/{UUID}/code.png?email=a@example.com&key=nope")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == 320


@pytest.mark.browser
def test_demo_page_click_to_reveal_and_content_gate(tmp_path):
    # Fails (never skips) when chromium is missing: `apt-get install -y chromium`.
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install -y chromium"
    from playwright.sync_api import expect, sync_playwright

    with (
        running_features_mock(f"sqlite:///{tmp_path / 'mock.db'}") as (url, app),
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{url}/__demo/?uid=browser-visitor")
            page.click("#reveal-button")
            expect(page.locator("#reveal-code")).to_be_visible()
            revealed = page.locator("#reveal-code").text_content()
            expect(page.locator("#reveal-discount")).to_have_text("Discount: 12")
            assert page.locator("#reveal-link").get_attribute("href") == (
                f"https://shop.example/reveal?code={revealed}"
            )
            # The revealed code is the one the API holds for this visitor.
            with app.test_client() as api:
                held = api.get(f"/embeddable/v2/{CLAIM}/{UUID}?uid=browser-visitor").json()
            assert held["data"]["code"] == revealed

            page.fill("#gate-email", "reader@example.com")
            page.click("#gate-submit")
            expect(page.locator("#gate-content")).to_be_visible()
            expect(page.locator("#gate-status")).to_have_text("Here is your new code.")
            gated = page.locator("#gate-code").text_content()
            assert gated and gated != revealed
            # Coming back: the enquiry finds the same code.
            page.goto(f"{url}/__demo/")
            page.fill("#gate-email", "READER@example.com")
            page.click("#gate-submit")
            expect(page.locator("#gate-status")).to_have_text("Welcome back: your code is waiting.")
            expect(page.locator("#gate-code")).to_have_text(gated)
        finally:
            browser.close()
