"""A percent-encoded line break (``%0A``) in a path segment is part of that segment: the request
reaches the operation of the path's shape and is judged by its parameter schemas, with a status
the operation declares; never "no such path" (404), never a redirect loop. (starlette's mount
pattern ``.*`` missed every path with a decoded newline: issue 14, the contract suite's
undeclared 404 on six operations.)"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient
from tests.mockapp import MERCHANT_KEY, mock_client

from uniqodo_mock.contract import ContractSettings, fixed_path_values
from uniqodo_mock.specs import load_spec, resolve_local_ref

_SPEC = load_spec("uniqodo.yaml")
_METHODS = ("get", "post")
# Values that reach real fixtures (fixtures/default.yaml), for the parameters the contract
# settings do not know.
_OTHER_VALUES = {"code": "AB12E3GH", "format": "json", "advertiserId": 1}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    state = tmp_path_factory.mktemp("paths") / "state.db"
    with mock_client(f"sqlite:///{state}") as client:
        yield client


def _path_parameters(item: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    """Name → schema of the operation's path parameters."""
    found = {}
    for parameter in item.get("parameters", []) + operation.get("parameters", []):
        parameter = resolve_local_ref(_SPEC, parameter)
        if parameter["in"] == "path":
            found[parameter["name"]] = resolve_local_ref(_SPEC, parameter["schema"])
    return found


def _cases() -> list[Any]:
    """(method, template, parameter, declared statuses) for each string path parameter."""
    cases = []
    for template, item in _SPEC["paths"].items():
        for method in _METHODS:
            if method not in item:
                continue
            operation = item[method]
            for name, schema in _path_parameters(item, operation).items():
                if schema.get("type") == "string":
                    declared = {int(status) for status in operation["responses"]}
                    cases.append(
                        pytest.param(
                            method, template, name, declared, id=f"{method} {template} {name}"
                        )
                    )
    return cases


def _url(template: str, method: str, broken: str, value: str) -> str:
    operation = _SPEC["paths"][template][method]
    values = {
        **_OTHER_VALUES,
        **fixed_path_values(ContractSettings("http://testserver"), operation["operationId"]),
    }
    values[broken] = value

    def fill(match: re.Match[str]) -> str:
        return quote(str(values[match.group(1)]), safe="")

    return re.sub(r"\{([^}]+)\}", fill, template)


@pytest.mark.parametrize(("method", "template", "parameter", "declared"), _cases())
def test_a_newline_in_a_path_parameter_gets_a_status_the_operation_declares(
    client: TestClient, method: str, template: str, parameter: str, declared: set[int]
) -> None:
    url = _url(template, method, parameter, "x\ny")
    answer = client.request(method.upper(), url, follow_redirects=False)
    assert answer.status_code in declared, (url, answer.status_code, answer.text)
    assert answer.status_code not in (307, 404), answer.text
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert set(body) == {"data", "errors", "result"}


def test_a_newline_in_an_enumerated_segment_is_a_400_naming_it(client: TestClient) -> None:
    answer = client.get(f"/offers/{MERCHANT_KEY}/x%0Ay")
    assert answer.status_code == 400
    [error] = answer.json()["errors"]
    assert error["code"] == 330
    assert "Path parameter 'format' must be one of json, xml, got 'x\\ny'" in error["message"]


def test_a_code_with_a_trailing_newline_is_the_code(client: TestClient) -> None:
    """Surrounding blanks of a code are ignored (the spec's Codes convention), a line break too."""
    answer = client.get(f"/validate/{MERCHANT_KEY}/AB12E3GH%0A/1")
    assert answer.status_code == 200
    assert answer.json()["result"] == "success", answer.text
    assert answer.json()["data"]["customer_code"] == "AB12E3GH"


def test_a_trailing_newline_redirects_once_to_the_slash_form(client: TestClient) -> None:
    """Without its trailing slash the offer list is redirected to it (as for any key); with a
    newline at the end that used to bounce between the two forms for ever."""
    first = client.get(f"/offers/{MERCHANT_KEY}%0A", follow_redirects=False)
    assert first.status_code == 307
    assert first.headers["location"].endswith(f"/offers/{MERCHANT_KEY}%0A/")
    second = client.get(f"/offers/{MERCHANT_KEY}%0A/", follow_redirects=False)
    assert second.status_code == 401
    assert second.json()["errors"][0]["code"] == 320


def test_a_path_of_no_operation_is_still_404(client: TestClient) -> None:
    answer = client.get("/offers/a%0Ab/json/extra")
    assert answer.status_code == 404
    assert answer.json()["errors"][0]["code"] == 331
