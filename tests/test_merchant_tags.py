"""The merchant tags as the mock serves them, and what they call besides validate and redeem:
the affiliate conversion (``vcot/conversion``), the tags' error log (``reporting``) and the
demo shop's pages. CORS: ``test_cors.py``; the tags in a browser:
``test_merchant_tags_browser.py``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from tests.mockapp import CODE_API_KEY, MERCHANT_KEY, OTHER_MERCHANT_KEY, PROMOTION, mock_client

from uniqodo_mock.mock.app import create_app
from uniqodo_mock.mock.merchant_tags import load_tag_template, render_tag
from uniqodo_mock.mock.runtime import MockConfig

CONFIG = re.compile(r"/\*@uqd-config\*/ (.*?) /\*@end-config\*/")
SHOP_ORIGIN = "http://shop.test:8000"


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    """A mock on SQLite, then on PostgreSQL (tag ids and redemption keys are queries)."""
    with mock_client(db_url) as client:
        yield client


def tag_config(body: str) -> dict[str, Any]:
    """The config object the mock wrote into a served tag."""
    found = CONFIG.findall(body)
    assert len(found) == 1, "one config object, between the markers"
    return json.loads(found[0])


def redeem(client: TestClient, code: str = "AB12E3GH", **params: str) -> dict[str, Any]:
    valid = client.get(f"/validate/{MERCHANT_KEY}/{code}/1").json()
    query = {"orderId": "TAG-1", "orderValue": "80.00", "valKey": valid["data"]["val_key"]}
    answer = client.get(f"/redeem/{MERCHANT_KEY}/{code}/1", params={**query, **params}).json()
    assert answer["result"] == "success", answer
    return answer


# ---------------------------------------------------------------------------- the tags


@pytest.mark.parametrize(
    ("path", "tag", "key"),
    [
        # By merchant id: the merchant's merchant-only key (64a2... is also distributor 102's).
        ("/uqd/1.js", "visit", OTHER_MERCHANT_KEY),
        ("/track/1.js", "redemption", OTHER_MERCHANT_KEY),
        # By one of the merchant's keys: that key.
        (f"/uqd/{MERCHANT_KEY}.js", "visit", MERCHANT_KEY),
        (f"/track/{MERCHANT_KEY}.js", "redemption", MERCHANT_KEY),
    ],
)
def test_each_tag_is_served_with_its_merchants_settings(
    client: TestClient, path: str, tag: str, key: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-store"
    assert tag_config(response.text) == {
        "tag": tag,
        "tagId": path.rsplit("/", 1)[1].removesuffix(".js"),
        "merchantId": 1,
        "key": key,
        "origin": "http://testserver",
    }
    # The file is the packaged tag with the shared part written in, and only the config object
    # filled in.
    static = Path(__file__).parents[1] / "src/uniqodo_mock/mock/static"
    name = "uqd-visit.js" if tag == "visit" else "uqd-redemption.js"
    packaged = (static / name).read_text()
    common = (static / "uqd-common.js").read_text().strip("\n")
    assert packaged.count("/*@uqd-common*/") == 1
    assert CONFIG.sub("", response.text) == CONFIG.sub("", packaged).replace(
        "/*@uqd-common*/", common
    )
    assert "function callApi(" in response.text and "/*@uqd-common*/" not in response.text


def test_the_served_keys_are_the_merchants_own(client: TestClient) -> None:
    for path in ("/uqd/1.js", "/track/2.js", f"/uqd/{MERCHANT_KEY}.js"):
        config = tag_config(client.get(path).text)
        valid = client.get(f"/validate/{config['key']}/NOSUCHCODE/{config['merchantId']}")
        # The key is accepted for the merchant: the answer is about the code, not the key.
        assert valid.json()["errors"][0]["code"] == 204, path


@pytest.mark.parametrize(
    "path",
    [
        "/uqd/99.js",  # no such merchant
        "/track/nope.js",  # no such key
        f"/uqd/{CODE_API_KEY}.js",  # a distributor's key: no merchant
        "/uqd/%2A%2F%20alert(1)%20%2F%2A.js",  # */ alert(1) /*
    ],
)
def test_an_unknown_tag_id_is_a_404_that_runs_nothing(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/javascript")
    body = response.text.strip()
    # One comment and nothing else: no value in it can end the comment early.
    assert body.startswith("/*") and body.endswith("*/") and body.count("*/") == 1
    assert "no merchant has the" in body


def test_only_get_loads_a_tag(client: TestClient) -> None:
    response = client.post("/uqd/1.js")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


def test_hostile_settings_stay_data_in_the_served_tag() -> None:
    template = load_tag_template("uqd-visit.js")
    hostile = {
        "tag": "visit",
        "tagId": '1"};alert(1);//',
        "merchantId": 1,
        "key": "k",
        "origin": "http://x</script><script>alert(1)</script>\u2028&amp;",
    }
    rendered = render_tag(template, hostile)
    segment = CONFIG.findall(rendered)[0]
    assert json.loads(segment) == hostile
    assert not set("<>&\u2028") & set(segment)


# ---------------------------------------------------------------------------- vcot/conversion


def test_the_conversion_answers_a_token_kept_on_the_redemption(client: TestClient) -> None:
    redeemed = redeem(client, email="affiliate-shopper@example.com")
    key = redeemed["data"]["redemption_key"]
    assert redeemed["data"]["awc_token"] is None  # made by the conversion, afterwards
    query_path = f"/publisher/{MERCHANT_KEY}/query/user-redemption/{PROMOTION}"
    user = {"userId": "affiliate-shopper@example.com"}
    before = client.get(query_path, params=user).json()["data"]["redemption"]["records"]
    assert [("awc_token" in r) for r in before] == [False]
    query = {"redemptionKey": key, "awcb": "https://affiliate.example/pixel?click=42"}
    first = client.get("/vcot/conversion", params={**query, "advertiserId": "1"})
    assert first.status_code == 200
    body = first.json()
    assert body["errors"] == [] and body["result"] == "success"
    token = body["data"]["awc_token"]
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    # Reported again: the same token.
    again = client.get("/vcot/conversion", params=query).json()
    assert again["data"]["awc_token"] == token
    # The redemption's record carries it now.
    records = client.get(query_path, params=user).json()["data"]["redemption"]["records"]
    assert [(r["order_id"], r["awc_token"]) for r in records] == [("TAG-1", token)]


def test_records_without_a_conversion_have_no_token(client: TestClient) -> None:
    body = client.get(
        f"/publisher/{MERCHANT_KEY}/query/user-redemption/{PROMOTION}", params={"userId": "ABC123"}
    ).json()
    assert [set(r) for r in body["data"]["redemption"]["records"]] == [
        {
            "id",
            "offer_id",
            "merchant_id",
            "distributor_id",
            "code",
            "order_id",
            "order_value",
            "discount_value",
            "currency",
            "custom_params",
            "redeemed_at",
            "tags",
        }
    ]


def test_a_fixture_redemption_key_converts_too(client: TestClient) -> None:
    key = "fixture-4883-BF39KD2H-1262434SH"
    body = client.get("/vcot/conversion", params={"redemptionKey": key, "awcb": "x"}).json()
    assert body["result"] == "success"


def test_an_unknown_redemption_key_is_error_204(client: TestClient) -> None:
    response = client.get("/vcot/conversion", params={"redemptionKey": "nope", "awcb": "x"})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None and body["result"] == "failure"
    assert body["errors"][0]["code"] == 204 and body["errors"][0]["reference"]
    journal = client.get("/__admin/journal", params={"operation": "vcot_conversion"}).json()
    assert "redemption key 'nope'" in journal["entries"][0]["errors"][0]["why"]["reason"]


@pytest.mark.parametrize(("query", "missing"), [({"awcb": "x"}, "redemptionKey"), ({}, "awcb")])
def test_the_conversion_needs_a_key_and_an_awcb(
    client: TestClient, query: dict[str, str], missing: str
) -> None:
    params = {"redemptionKey": "k", **query} if missing == "awcb" else query
    response = client.get("/vcot/conversion", params=params)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == 330 and f"'{missing}'" in error["message"]


# ---------------------------------------------------------------------------- reporting


def test_the_tags_error_log_is_kept_in_the_journal(client: TestClient) -> None:
    message = "redeem: the call to the API failed (TypeError)"
    response = client.get("/reporting/1/log", params={"message": message, "type": "error"})
    assert response.status_code == 200
    assert response.json() == {"data": None, "errors": [], "result": "success"}
    entries = client.get("/__admin/journal", params={"operation": "reporting_log"}).json()
    assert [(e["path"], e["params"]) for e in entries["entries"]] == [
        ("/reporting/1/log", {"message": message, "type": "error"})
    ]
    missing = client.get("/reporting/1/log")
    assert missing.status_code == 400 and "'message'" in missing.json()["errors"][0]["message"]


# ---------------------------------------------------------------------------- the demo shop


def test_the_demo_shop_loads_the_tags_as_a_merchant_would(client: TestClient) -> None:
    assert client.get("/__demo/shop", follow_redirects=False).headers["location"] == (
        "/__demo/shop/"
    )
    pages = {
        name: client.get(f"/__demo/shop/{name}")
        for name in ("", "basket.html", "confirmation.html", "shop.js", "shop.css")
    }
    assert all(response.status_code == 200 for response in pages.values())
    for name in ("", "basket.html", "confirmation.html"):
        assert '<script src="/uqd/1.js"></script>' in pages[name].text, name
    assert '<script src="/track/1.js"></script>' in pages["confirmation.html"].text
    assert "/track/" not in pages[""].text.split("<script")[-1]
    assert client.get("/__demo/shop/nope.html").status_code == 404
    assert client.get("/__demo/shop/settings.json").json() == {"receiverPage": None}
    # The embeddable-codes demo page is still there.
    assert "Embeddable codes demo" in client.get("/__demo/").text


def test_the_demo_shop_links_the_receiver_that_up_wired(tmp_path: Path) -> None:
    config = MockConfig(
        db_url=f"sqlite:///{tmp_path / 'state.db'}",
        dispatch_callbacks=False,
        receiver_url="http://127.0.0.1:8090/callback",
    )
    app = create_app(config)
    with TestClient(app) as client:
        settings = client.get("/__demo/shop/settings.json").json()
    app.runtime.engine.dispose()
    assert settings == {"receiverPage": "http://127.0.0.1:8090/__receiver/"}
