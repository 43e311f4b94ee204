"""Hostile or odd input is a 4xx in the vendor's envelope, never a 500: NUL characters (which
PostgreSQL cannot store), too many form fields, missing docs files and path traversal, integers
beyond 64 bits in the admin API, a multipart body without its boundary, amounts beyond any
order. NUL cases run on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from tests.mockapp import CODE_API_KEY, MERCHANT_KEY, PROMOTION, mock_client

from uniqodo_mock.core.errors import default_catalogue

CATALOGUE = default_catalogue()
FORM = {"content-type": "application/x-www-form-urlencoded"}
TOO_BIG = str(2**64)


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with mock_client(db_url) as client:
        yield client


def assert_envelope(response: httpx.Response, status: int, key: str, *words: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert set(body) == {"data", "errors", "result"}
    assert body["result"] == "failure"
    assert body["errors"][0]["code"] == CATALOGUE[key].code, body
    message = str(body["errors"][0]["message"])
    for word in words:
        assert word in message, message
    return message


@pytest.mark.parametrize(
    ("path", "name"),
    [
        (f"/code/{CODE_API_KEY}/1234?uid=a%00b", "uid"),
        (f"/validate/{MERCHANT_KEY}/AB%00C/1", "code"),
        (f"/redeem/{MERCHANT_KEY}/AB12E3GH/1?orderId=x%00y", "orderId"),
        (f"/redeem/{MERCHANT_KEY}/AB12E3GH/1?orderId=1&p1=a%00b", "p1"),
        (f"/publisher/{CODE_API_KEY}/query/user-redemption/{PROMOTION}?userId=a%00b", "userId"),
        (f"/distributor/{CODE_API_KEY}/query/user-redemption/{PROMOTION}?userId=%00", "userId"),
        (f"/user-code-enquiry/{MERCHANT_KEY}/{PROMOTION}?userId=a%00b", "userId"),
        # Undeclared in the spec's patterns: the check is the validation layer's, for all.
        ("/vcot/conversion?redemptionKey=a%00b&awcb=1&advertiserId=1", "redemptionKey"),
        ("/reporting/1%00/log?message=m&type=error", "advertiserId"),
        (f"/code/{CODE_API_KEY}/1234?extra%00=1", "extra\\0"),
    ],
)
def test_a_nul_character_is_a_400_naming_the_parameter(
    client: TestClient, path: str, name: str
) -> None:
    response = client.get(path)
    assert_envelope(response, 400, "invalid_parameter", f"'{name}'", "NUL")
    assert client.get("/__admin/health").status_code == 200  # the store still answers


@pytest.mark.parametrize("body", ["code=AB%00", "email=a%00b", "extra=x%00y"])
def test_a_nul_character_in_a_form_field_is_a_400_naming_it(client: TestClient, body: str) -> None:
    response = client.post(f"/validate/{MERCHANT_KEY}/AB12E3GH/1", content=body, headers=FORM)
    name = body.split("=")[0]
    assert_envelope(response, 400, "invalid_parameter", f"Form field '{name}'", "NUL")


def test_a_nul_character_in_a_form_fields_name_is_no_500(client: TestClient) -> None:
    # The spec's form accepts any further field as text (names are not declared) and such a
    # name is never stored: the answer is the validation's, on both databases.
    response = client.post(f"/validate/{MERCHANT_KEY}/AB12E3GH/1", content="x%00y=1", headers=FORM)
    assert response.status_code == 200, response.text
    assert response.json()["result"] == "success"


def test_a_form_of_more_than_a_thousand_fields_is_a_413(client: TestClient) -> None:
    url = f"/validate/{MERCHANT_KEY}/AB12E3GH/1"
    fine = "&".join(f"f{i}=1" for i in range(1000))
    assert client.post(url, content=fine, headers=FORM).status_code == 200
    too_many = "&".join(f"f{i}=1" for i in range(1001))
    response = client.post(url, content=too_many, headers=FORM)
    assert_envelope(response, 413, "payload_too_large", "1000 fields")


def test_an_order_value_beyond_any_order_is_a_400_naming_it(client: TestClient) -> None:
    for value in ("1000000000000000000000000000", "1e400", "9" * 400):
        response = client.get(
            f"/redeem/{MERCHANT_KEY}/AB12E3GH/1?orderId=1&orderValue={value}&orderValue=1"
        )
        assert_envelope(response, 400, "invalid_parameter", "'orderValue'")
    # Nothing was redeemed by the refused requests.
    fine = client.get(f"/redeem/{MERCHANT_KEY}/AB12E3GH/1?orderId=1&orderValue=10")
    assert fine.json()["result"] == "success", fine.text


@pytest.fixture(scope="module")
def sqlite_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db = tmp_path_factory.mktemp("hostile") / "state.db"
    with mock_client(f"sqlite:///{db}") as client:
        yield client


@pytest.mark.parametrize(
    "path",
    [
        "/__admin/docs/nope.js",
        "/__admin/docs/no/such/dir/file.css",
        "/__admin/docs/%2e%2e/%2e%2e/pyproject.toml",
        "/__admin/docs/..%2f..%2fpyproject.toml",
        "/__admin/docs/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/__admin/docs/a%00b.js",
        "/__admin/specs/nope.json",
    ],
)
def test_a_missing_docs_file_is_a_404_in_the_envelope(sqlite_client: TestClient, path: str) -> None:
    assert_envelope(sqlite_client.get(path), 404, "not_found")
    # The docs themselves are still there.
    assert sqlite_client.get("/__admin/docs/swagger-ui-bundle.js").status_code == 200


def test_a_post_to_a_docs_file_is_no_500(sqlite_client: TestClient) -> None:
    response = sqlite_client.post("/__admin/docs/swagger-ui-bundle.js", content=b"x")
    assert response.status_code in (404, 405), response.text


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/__admin/deliveries?subscription={TOO_BIG}"),
        ("GET", f"/__admin/deliveries?redemption={TOO_BIG}"),
        ("GET", "/__admin/deliveries?subscription=-99999999999999999999"),
        ("DELETE", f"/__admin/callbacks/{TOO_BIG}"),
        ("DELETE", f"/__admin/faults/{TOO_BIG}"),
    ],
)
def test_admin_integers_beyond_64_bits_are_a_400(
    sqlite_client: TestClient, method: str, path: str
) -> None:
    response = sqlite_client.request(method, path)
    assert response.status_code == 400, response.text
    assert response.json()["result"] == "failure"


def test_an_unknown_subscription_at_the_largest_id_is_a_404(sqlite_client: TestClient) -> None:
    response = sqlite_client.delete(f"/__admin/callbacks/{2**63 - 1}")
    assert response.status_code == 404, response.text
    assert sqlite_client.get(f"/__admin/deliveries?subscription={2**63 - 1}").status_code == 200


def test_a_callback_owner_beyond_64_bits_is_a_400(sqlite_client: TestClient) -> None:
    body = {"url": "http://127.0.0.1:9/cb", "owner": {"merchant": 2**64}}
    response = sqlite_client.post("/__admin/callbacks", json=body)
    assert response.status_code == 400, response.text


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data", "multipart/form-data; boundary=", "multipart/form-data; boundary=x"],
)
def test_a_multipart_fixture_upload_without_its_boundary_is_a_400(
    sqlite_client: TestClient, content_type: str
) -> None:
    response = sqlite_client.put(
        "/__admin/fixtures", content=b"no parts here", headers={"content-type": content_type}
    )
    assert response.status_code == 400, response.text
    assert response.json()["result"] == "failure"
    assert sqlite_client.get("/__admin/health").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "content", "content_type"),
    [
        ("POST", "/__admin/offers/4883/codes", b"code,issued_to\nVIP\x00X,a@b.c\n", "text/csv"),
        (
            "POST",
            "/__admin/callbacks",
            b'{"url": "http://127.0.0.1:9/a\\u0000b"}',
            "application/json",
        ),
        (
            "POST",
            "/__admin/callbacks",
            b'{"url": "http://127.0.0.1:9/a", "headers": {"x": "\\\\\\u0000"}}',
            "application/json",
        ),
        ("PUT", "/__admin/fixtures", b'version: 1\nmerchants: [{name: "a\x00"}]\n', "text/yaml"),
    ],
)
def test_a_nul_character_in_an_admin_body_is_a_400(
    client: TestClient, method: str, path: str, content: bytes, content_type: str
) -> None:
    response = client.request(method, path, content=content, headers={"content-type": content_type})
    assert_envelope(response, 400, "invalid_parameter", "NUL")
    assert client.get("/__admin/callbacks").json()["subscriptions"] == []


def test_an_escaped_backslash_before_u0000_is_text_not_nul(client: TestClient) -> None:
    body = b'{"url": "http://127.0.0.1:9/a", "headers": {"x": "\\\\u0000"}}'
    response = client.post(
        "/__admin/callbacks", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["headers"] == {"x": "\\u0000"}


def test_a_multipart_upload_of_more_than_a_thousand_fields_is_a_413(
    sqlite_client: TestClient,
) -> None:
    fields = {f"f{i}": (None, "1") for i in range(1001)}
    response = sqlite_client.put("/__admin/fixtures", files=fields)
    assert_envelope(response, 413, "payload_too_large", "1000")


@pytest.mark.parametrize("path", ["/uqd/a%00b.js", "/track/%00.js"])
def test_a_nul_character_in_a_merchant_tag_id_is_an_unknown_tag(
    client: TestClient, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 404, response.text
    assert "no merchant has" in response.text


DEEP_JSON = "[" * 5000 + "]" * 5000


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/__admin/callbacks"),
        ("PUT", "/__admin/clock"),
        ("POST", "/__admin/faults"),
        ("PUT", "/__admin/snapshot"),
    ],
)
def test_a_json_body_nested_beyond_the_parser_is_a_400(
    sqlite_client: TestClient, method: str, path: str
) -> None:
    before = sqlite_client.get("/__admin/callbacks").json()
    response = sqlite_client.request(
        method, path, content=DEEP_JSON, headers={"content-type": "application/json"}
    )
    assert_envelope(response, 400, "unsupported_body", "nested too deeply")
    assert sqlite_client.get("/__admin/callbacks").json() == before


def test_a_reward_claim_nested_beyond_the_parser_is_a_400_in_its_own_shape(
    sqlite_client: TestClient,
) -> None:
    response = sqlite_client.post(
        "/v2/claims",
        content=DEEP_JSON,
        headers={"content-type": "application/json", "UQD-ACCESS-KEY": CODE_API_KEY},
    )
    assert response.status_code == 400, response.text
    assert response.json() == {"message": "Bad Request: The JSON body is nested too deeply."}
