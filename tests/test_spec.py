"""Checks of the OpenAPI document ``openapi/uniqodo.yaml``: validity, provenance tags on every
element, named examples that validate against their schemas, agreement with the error
catalogue, and that connexion can serve it."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

REPO_ROOT = Path(__file__).resolve().parents[1]
SPEC_PATH = REPO_ROOT / "openapi" / "uniqodo.yaml"
CATALOGUE_PATH = REPO_ROOT / "src" / "uniqodo_mock" / "core" / "default_errors.yaml"

SPEC_URI = "urn:uniqodo-mock:openapi"
SOURCES = {"docs", "client", "simulator"}
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
API = "uniqodo_mock.mock.api."
OPERATION_IDS = {
    API + name
    for name in (
        "get_code",
        "list_offers",
        "list_offers_default",
        "validate_code",
        "validate_code_form",
        "redeem_code",
        "publisher_query",
        "distributor_query",
        "embeddable_code",
        "user_code_enquiry",
        "vcot_conversion",
        "reporting_log",
        "create_claim",
    )
}
REQUIRED_STATUSES = {"200", "400", "401", "403", "429", "500", "503"}
# What the merchant's tags call besides validate and redeem carries no API key: no 401, no 403.
KEYLESS_OPERATIONS = {API + "vcot_conversion", API + "reporting_log"}
# The Reward API v2 answers in its own shapes: 201 with the claim, {"message"} for failures.
REWARD_OPERATIONS = {API + "create_claim"}
REWARD_REQUIRED_STATUSES = {"201", "400", "401", "403", "404", "429", "500", "503"}

# The Code Query article's two example responses (owh6k42hi2), as published. The mock always
# sends `result`, so the 201 example gains `"result": "failure"`.
DOCS_CODE_QUERY_201 = json.loads(
    '{"data":{"redemption":{"records":[{"id":1925118,"offer_id":4883,"merchant_id":1,'
    '"distributor_id":102,"code":"BF39KD2H","order_id":"1262434SH","order_value":45,'
    '"discount_value":11.25,"currency":"GBP","custom_params":null,'
    '"redeemed_at":"2019-05-15T08:55:37+0100","tags":[]}],"total":1},'
    '"offer":{"id":4883,"offer_id":4883,"offer_description":"Unique coupon test promotion",'
    '"merchant_id":1,"merchant_name":"Uniqodo Test","description":"Test promotion",'
    '"status":"active","code":"XMAS10","terms":null,"code_remaining":1000,'
    '"redemption_per_code":1,"code_type":"unique","start_date":"27-02-2019 00:00:00",'
    '"end_date":"17-05-2019 23:59:59","code_issue_date":"15-05-2019 08:54:02","code_expiry":""}},'
    '"errors":[{"code":201,"message":"This code has already been redeemed and can no longer be '
    'used.","promotion_specific_error":null}]}'
)
DOCS_CODE_QUERY_204 = json.loads(
    '{"data":{"redemption":{"records":[],"total":0},"offer":null},"errors":[{"code":204,'
    '"message":"The code entered is not recognised.","promotion_specific_error":null,'
    '"reference":"TCJGGJGF"}],"result":"failure"}'
)


# ---------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    with SPEC_PATH.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@pytest.fixture(scope="module")
def catalogue() -> dict[str, Any]:
    with CATALOGUE_PATH.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _pointer(*tokens: str) -> str:
    return "".join("/" + _escape(str(t)) for t in tokens)


def _resolve(spec: dict[str, Any], node: Any, pointer: str) -> tuple[Any, str]:
    """Follow local `$ref`s; return the target and its JSON pointer in the document."""
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), f"only local references are used: {ref}"
        pointer = ref[1:]
        node = spec
        for token in pointer.split("/")[1:]:
            node = node[token.replace("~1", "/").replace("~0", "~")]
    return node, pointer


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any], str]]:
    """(path, method, operation, pointer) for every operation under `paths`."""
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method], _pointer("paths", path, method)


def _callback_operations(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], str]]:
    for _path, _method, op, ptr in _operations(spec):
        for cb_name, callback in op.get("callbacks", {}).items():
            for expression, item in callback.items():
                for method in METHODS:
                    if method in item:
                        yield (
                            f"{cb_name} {method}",
                            item[method],
                            ptr + _pointer("callbacks", cb_name, expression, method),
                        )


def _all_operations(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], str]]:
    for path, method, op, ptr in _operations(spec):
        yield f"{method.upper()} {path}", op, ptr
    yield from _callback_operations(spec)


def _walk_schema(schema: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every (location, schema) reachable inside `schema` without following `$ref`s."""
    if not isinstance(schema, dict) or "$ref" in schema:
        return
    yield where, schema
    for name, sub in schema.get("properties", {}).items():
        yield from _walk_schema(sub, f"{where}.properties.{name}")
    for keyword in ("items", "additionalProperties", "not"):
        if isinstance(schema.get(keyword), dict):
            yield from _walk_schema(schema[keyword], f"{where}.{keyword}")
    for keyword in ("allOf", "anyOf", "oneOf"):
        for i, sub in enumerate(schema.get(keyword, [])):
            yield from _walk_schema(sub, f"{where}.{keyword}[{i}]")


def _schema_roots(spec: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """Every schema in the document: components, parameters, bodies, responses, headers."""
    components = spec["components"]
    for name, schema in components["schemas"].items():
        yield f"components.schemas.{name}", schema
    for name, param in components["parameters"].items():
        yield f"components.parameters.{name}", param.get("schema")
    for name, response in components["responses"].items():
        for mt, media in response.get("content", {}).items():
            yield f"components.responses.{name}.{mt}", media.get("schema")
        for header, obj in response.get("headers", {}).items():
            yield f"components.responses.{name}.headers.{header}", obj.get("schema")
    for label, op, _ptr in _all_operations(spec):
        for param in op.get("parameters", []):
            if "$ref" not in param:
                yield f"{label} parameter {param['name']}", param.get("schema")
        for mt, media in op.get("requestBody", {}).get("content", {}).items():
            yield f"{label} body {mt}", media.get("schema")
        for status, response in op.get("responses", {}).items():
            for mt, media in response.get("content", {}).items():
                yield f"{label} {status} {mt}", media.get("schema")


def _validator(spec: dict[str, Any], pointer: str) -> OAS30Validator:
    """An OAS 3.0 validator for the schema at `pointer`, with the document's `$ref`s resolvable."""
    registry = Registry().with_resource(
        SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT4)
    )
    return OAS30Validator(
        {"$ref": f"{SPEC_URI}#{pointer}"},
        registry=registry,
        format_checker=oas30_format_checker,
    )


def _examples_of(spec: dict[str, Any], holder: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for name, example in holder.get("examples", {}).items():
        resolved, _ = _resolve(spec, example, "")
        yield name, resolved["value"]


def _response_examples(
    spec: dict[str, Any],
) -> Iterator[tuple[str, str, str, str, Any]]:
    """(operation label, status, media type, example name, value) of every operation response."""
    for label, op, ptr in _all_operations(spec):
        for status, response in op["responses"].items():
            response, _ = _resolve(spec, response, ptr + _pointer("responses", status))
            for mt, media in response.get("content", {}).items():
                for name, value in _examples_of(spec, media):
                    yield label, status, mt, name, value


def _error_lists(node: Any) -> Iterator[list[dict[str, Any]]]:
    """Every envelope `errors` list inside an example value."""
    if isinstance(node, dict):
        errors = node.get("errors")
        if isinstance(errors, list) and all(isinstance(e, dict) and "code" in e for e in errors):
            yield errors
        for value in node.values():
            yield from _error_lists(value)
    elif isinstance(node, list):
        for value in node:
            yield from _error_lists(value)


# ---------------------------------------------------------------------------- validity


def test_spec_is_openapi_3_0(spec: dict[str, Any]) -> None:
    assert str(spec["openapi"]).startswith("3.0.")


def test_spec_passes_openapi_spec_validator(spec: dict[str, Any]) -> None:
    validate_spec(copy.deepcopy(spec))


def test_operation_ids(spec: dict[str, Any]) -> None:
    ids = [op["operationId"] for _p, _m, op, _ptr in _operations(spec)]
    assert len(ids) == len(set(ids)), "operationIds are unique"
    assert set(ids) == OPERATION_IDS


def test_servers_and_tags(spec: dict[str, Any]) -> None:
    urls = {s["url"] for s in spec["servers"]}
    assert {"https://api.uniqodo.com", "http://127.0.0.1:8080"} <= urls
    tag_names = {t["name"] for t in spec["tags"]}
    for label, op, _ptr in _all_operations(spec):
        if label.startswith("redemptionCallback"):
            continue
        assert op.get("tags"), f"{label} has a tag"
        assert set(op["tags"]) <= tag_names, f"{label}: tags are declared at the top"
        assert op.get("summary") and op.get("description"), f"{label}: summary and description"


# ---------------------------------------------------------------------------- provenance


def test_every_operation_has_x_source(spec: dict[str, Any]) -> None:
    for label, op, _ptr in _all_operations(spec):
        assert op.get("x-source") in SOURCES, f"{label}: x-source"


def test_every_parameter_has_x_source_and_description(spec: dict[str, Any]) -> None:
    params: list[tuple[str, dict[str, Any]]] = [
        (f"components.parameters.{name}", p) for name, p in spec["components"]["parameters"].items()
    ]
    for label, op, _ptr in _all_operations(spec):
        params += [(f"{label} {p.get('name', p.get('$ref'))}", p) for p in op.get("parameters", [])]
    for path, item in spec["paths"].items():
        params += [(f"{path} {p.get('name')}", p) for p in item.get("parameters", [])]
    assert params
    for where, param in params:
        if "$ref" in param:
            resolved, _ = _resolve(spec, param, "")
            assert resolved.get("x-source") in SOURCES, f"{where}: x-source"
            continue
        assert param.get("x-source") in SOURCES, f"{where}: x-source"
        assert param.get("description"), f"{where}: description"


def test_every_schema_property_has_x_source(spec: dict[str, Any]) -> None:
    count = 0
    for root, schema in _schema_roots(spec):
        for where, sub in _walk_schema(schema, root):
            for name, prop in sub.get("properties", {}).items():
                count += 1
                assert isinstance(prop, dict) and prop.get("x-source") in SOURCES, (
                    f"{where}.properties.{name}: x-source"
                )
    assert count > 100


def test_data_objects_never_forbid_extra_fields(spec: dict[str, Any]) -> None:
    for root, schema in _schema_roots(spec):
        for where, sub in _walk_schema(schema, root):
            assert sub.get("additionalProperties") is not False, where


# ---------------------------------------------------------------------------- responses


def test_every_operation_declares_the_standard_responses(spec: dict[str, Any]) -> None:
    for path, method, op, _ptr in _operations(spec):
        statuses = set(op["responses"])
        required = REQUIRED_STATUSES
        if op["operationId"] in REWARD_OPERATIONS:
            required = REWARD_REQUIRED_STATUSES
        elif op["operationId"] in KEYLESS_OPERATIONS:
            names = {_resolve(spec, p, "")[0]["name"] for p in op.get("parameters", [])}
            assert not names & {"api_key", "merchant_key", "claim_credential"}, path
            required = REQUIRED_STATUSES - {"401", "403"}
        assert statuses >= required, f"{method} {path}: {sorted(statuses)}"
        content = op.get("requestBody", {}).get("content", {})
        if "application/x-www-form-urlencoded" in content:
            assert {"413", "415"} <= statuses, f"{method} {path}: 413 and 415 on a form POST"


def test_error_statuses_use_the_json_envelope(spec: dict[str, Any]) -> None:
    envelope = "#/components/schemas/Envelope"
    success_refs: set[str] = set()
    responses: list[tuple[str, dict[str, Any]]] = []
    for path, method, op, ptr in _operations(spec):
        for status, response in op["responses"].items():
            if int(status) < 400:
                success_refs.add(response.get("$ref", ""))
                continue
            resolved, _ = _resolve(spec, response, ptr)
            if op["operationId"] in REWARD_OPERATIONS:
                content = resolved.get("content", {})
                assert set(content) == {"application/json"}, f"{method} {path} {status}"
                schema = content["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/RewardMessage"}, status
                continue
            responses.append((f"{method} {path} {status}", resolved))
    # Component responses not used for a success (NotFound, MethodNotAllowed are used by none).
    for name, response in spec["components"]["responses"].items():
        if f"#/components/responses/{name}" not in success_refs:
            responses.append((f"components.responses.{name}", response))
    for where, response in responses:
        content = response.get("content", {})
        assert set(content) == {"application/json"}, f"{where}: {sorted(content)}"
        assert content["application/json"]["schema"] == {"$ref": envelope}, where


def test_every_response_has_named_examples(spec: dict[str, Any]) -> None:
    for label, op, ptr in _all_operations(spec):
        if label.startswith("redemptionCallback"):
            continue  # the callback's responses come from the subscriber and have no body
        for status, response in op["responses"].items():
            response, _ = _resolve(spec, response, ptr)
            content = response.get("content")
            assert content, f"{label} {status}: content"
            for mt, media in content.items():
                assert "example" not in media, f"{label} {status} {mt}: use named examples"
                assert media.get("examples"), f"{label} {status} {mt}: named examples"


def test_every_example_validates_against_its_schema(spec: dict[str, Any]) -> None:
    checked = 0
    for label, op, ptr in _all_operations(spec):
        holders: list[tuple[str, dict[str, Any], str]] = []
        for status, response in op["responses"].items():
            response, rptr = _resolve(spec, response, ptr + _pointer("responses", status))
            for mt, media in response.get("content", {}).items():
                holders.append((f"{label} {status} {mt}", media, rptr + _pointer("content", mt)))
        for mt, media in op.get("requestBody", {}).get("content", {}).items():
            holders.append(
                (f"{label} body {mt}", media, ptr + _pointer("requestBody", "content", mt))
            )
        for where, media, mptr in holders:
            validator = _validator(spec, mptr + "/schema")
            for name, value in _examples_of(spec, media):
                errors = sorted(validator.iter_errors(value), key=str)
                assert not errors, f"{where} example {name!r}: {errors[0].message}"
                checked += 1
    assert checked > 50


def test_every_parameter_example_validates(spec: dict[str, Any]) -> None:
    params = [
        (f"components.parameters.{n}", p, _pointer("components", "parameters", n))
        for n, p in spec["components"]["parameters"].items()
    ]
    for label, op, ptr in _all_operations(spec):
        for i, p in enumerate(op.get("parameters", [])):
            if "$ref" not in p:
                params.append((f"{label} {p['name']}", p, ptr + _pointer("parameters", i)))
    for where, param, pptr in params:
        assert "example" in param, f"{where}: example"
        validator = _validator(spec, pptr + "/schema")
        errors = list(validator.iter_errors(param["example"]))
        assert not errors, f"{where}: {errors[0].message}"


def test_schema_level_examples_validate(spec: dict[str, Any]) -> None:
    for name, schema in spec["components"]["schemas"].items():
        for prop, sub in schema.get("properties", {}).items():
            if "example" in sub:
                ptr = _pointer("components", "schemas", name, "properties", prop)
                errors = list(_validator(spec, ptr).iter_errors(sub["example"]))
                assert not errors, f"{name}.{prop}: {errors[0].message}"


def _parameter_names(spec: dict[str, Any], op: dict[str, Any]) -> set[str]:
    """Names of an operation's parameters and form fields."""
    names = {_resolve(spec, p, "")[0]["name"] for p in op.get("parameters", [])}
    for media in op.get("requestBody", {}).get("content", {}).values():
        schema, _ = _resolve(spec, media["schema"], "")
        names |= set(schema.get("properties", {}))
    return names


# HTTP statuses an error may travel with besides its catalogue status: connexion answers a
# form POST of another content type with 415, which the mock keeps (error 333).
EXTRA_STATUSES = {"unsupported_body": {415}}


def test_examples_agree_with_the_error_catalogue(
    spec: dict[str, Any], catalogue: dict[str, Any]
) -> None:
    by_code = {entry["code"]: (key, entry) for key, entry in catalogue.items()}
    for label, op, ptr in _all_operations(spec):
        if op.get("operationId") in REWARD_OPERATIONS:
            continue  # no envelope, no catalogue numbers: test_reward_examples_have_its_shape
        params = _parameter_names(spec, op)
        for status, response in op["responses"].items():
            response, _ = _resolve(spec, response, ptr)
            for media in response.get("content", {}).values():
                for name, value in _examples_of(spec, media):
                    if not isinstance(value, dict):
                        continue
                    where = f"{label} {status} {name}"
                    errors = value.get("errors", [])
                    assert value.get("result") == ("failure" if errors else "success"), (
                        f"{where}: result is failure exactly when errors is non-empty"
                    )
                    for error in errors:
                        _check_error(by_code, params, int(status), error, where)


def test_reward_examples_have_its_shape(spec: dict[str, Any]) -> None:
    for _path, _method, op, ptr in _operations(spec):
        if op["operationId"] not in REWARD_OPERATIONS:
            continue
        for status, response in op["responses"].items():
            response, _ = _resolve(spec, response, ptr)
            for media in response["content"].values():
                for name, value in _examples_of(spec, media):
                    if int(status) >= 400:
                        assert set(value) == {"message"}, f"{status} {name}"
                    else:
                        assert set(value) == {"claim", "customer", "promotion"}, name
        unauthorized = op["responses"]["401"]["content"]["application/json"]["examples"]
        assert [e["value"] for e in unauthorized.values()] == [{"message": "Unauthorized"}]


def _check_error(
    by_code: dict[int, tuple[str, dict[str, Any]]],
    params: set[str],
    status: int,
    error: dict[str, Any],
    where: str,
) -> None:
    assert error["code"] in by_code, f"{where}: {error['code']} is in the catalogue"
    key, entry = by_code[error["code"]]
    allowed = {entry["http_status"]} | EXTRA_STATUSES.get(key, set())
    assert status in allowed, f"{where}: {key} travels with HTTP {sorted(allowed)}, not {status}"
    messages = entry["messages"].values()
    message = error["message"]
    # The catalogue's message, in one of its locales, optionally followed by a detail sentence.
    assert any(message == m or message.startswith(m + " ") for m in messages), (
        f"{where}: {message!r} starts with the catalogue's message"
    )
    if key == "invalid_parameter":
        named = {p for p in params if f"'{p}'" in message}
        assert named, f"{where}: the message names one of the parameters {sorted(params)}"


def test_every_catalogue_error_appears_in_an_example(
    spec: dict[str, Any], catalogue: dict[str, Any]
) -> None:
    seen = {error["code"] for errors in _error_lists(spec) for error in errors}
    missing = {key: e["code"] for key, e in catalogue.items() if e["code"] not in seen}
    assert not missing, f"catalogue errors without an example: {missing}"


def test_business_errors_per_operation(spec: dict[str, Any]) -> None:
    expected = {
        "get_code": {206, 310, 311, 302, 303, 304},
        "validate_code": {204, 201, 301, 302, 303, 304, 305, 306, 307, 309},
        "validate_code_form": {204, 201, 301, 302, 303, 304, 305, 306, 307, 309},
        "redeem_code": {204, 201, 301, 302, 303, 304, 307, 308},
        "publisher_query": {201, 204},
        "distributor_query": {204},
        "embeddable_code": {206},
        "vcot_conversion": {204},
    }
    ops = {op["operationId"].removeprefix(API): op for _p, _m, op, _ptr in _operations(spec)}
    for name, codes in expected.items():
        response, _ = _resolve(spec, ops[name]["responses"]["200"], "")
        seen = {
            error["code"]
            for _n, value in _examples_of(spec, response["content"]["application/json"])
            for errors in _error_lists(value)
            for error in errors
        }
        assert codes <= seen, f"{name}: missing examples for {sorted(codes - seen)}"
    forbidden, _ = _resolve(spec, ops["get_code"]["responses"]["403"], "")
    codes_403 = {
        e["code"]
        for _n, v in _examples_of(spec, forbidden["content"]["application/json"])
        for e in v["errors"]
    }
    assert {312, 321} <= codes_403


def test_basket_rule_example_fills_promotion_specific_error(spec: dict[str, Any]) -> None:
    found = [
        error
        for _l, _s, _mt, _n, value in _response_examples(spec)
        if isinstance(value, dict)
        for error in value.get("errors", [])
        if error["code"] == 306
    ]
    assert found and all(error["promotion_specific_error"] for error in found)


def test_code_query_examples_are_the_docs_verbatim(spec: dict[str, Any]) -> None:
    op = spec["paths"]["/publisher/{api_key}/query/user-redemption/{promotion_uuid}"]["get"]
    values = [
        v for _n, v in _examples_of(spec, op["responses"]["200"]["content"]["application/json"])
    ]
    assert {**DOCS_CODE_QUERY_201, "result": "failure"} in values
    assert DOCS_CODE_QUERY_204 in values
    assert any(v["errors"] == [] and v["result"] == "success" for v in values)


# ---------------------------------------------------------------------------- parameters


def test_parameter_constraints(spec: dict[str, Any]) -> None:
    params = spec["components"]["parameters"]
    for name in ("OfferId", "MerchantId"):
        assert params[name]["schema"] == {
            "type": "integer",
            "format": "int64",
            "minimum": 1,
            "maximum": 2**63 - 1,
        }
    assert params["PromotionUuid"]["schema"]["pattern"] == "^[0-9a-fA-F]{32}$"
    text = "^[^\\u0000]*$"  # no NUL character: the database could not store it
    for name in ("DistributorKey", "MerchantKey", "MerchantKeyEnquiry", "ClaimCredential"):
        schema = params[name]["schema"]
        assert schema == {"type": "string", "minLength": 1, "maxLength": 128, "pattern": text}
    assert params["Code"]["schema"] == {
        "type": "string",
        "minLength": 1,
        "maxLength": 64,
        "pattern": text,
    }
    assert params["Locale"]["schema"]["pattern"] == "^[a-z]{2}(_[A-Z]{2})?$"
    assert params["Format"]["schema"]["enum"] == ["json", "xml"]
    assert params["OrderValue"]["schema"] == {
        "type": "string",
        "pattern": r"^-?[0-9]{1,15}(\.[0-9]+)?$",
        "x-source": "simulator",
    }
    for name in ("Discount", "BasketTotal"):
        assert params[name]["schema"] == {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}
    for name in ("Price", "Quantity", "ProductId"):
        assert params[name]["schema"] == {"type": "string", "pattern": text}, name
    assert params["OrderId"]["required"] is True


def test_form_body_accepts_extra_fields(spec: dict[str, Any]) -> None:
    op = spec["paths"]["/validate/{api_key}/{code}/{merchant_id}"]["post"]
    schema, _ = _resolve(
        spec, op["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"], ""
    )
    assert schema["additionalProperties"] == {"type": "string", "pattern": "^[^\\u0000]*$"}
    get_op = spec["paths"]["/validate/{api_key}/{code}/{merchant_id}"]["get"]
    query_names = {
        _resolve(spec, p, "")[0]["name"]
        for p in get_op["parameters"]
        if _resolve(spec, p, "")[0]["in"] == "query"
    }
    assert query_names == set(schema["properties"]), "form fields match the GET query parameters"


# ---------------------------------------------------------------------------- callback, links


def test_redeem_declares_the_redemption_callback(spec: dict[str, Any]) -> None:
    op = spec["paths"]["/redeem/{api_key}/{code}/{merchant_id}"]["get"]
    callback = op["callbacks"]["redemptionCallback"]
    assert list(callback) == ["{$url}"]
    item = callback["{$url}"]
    assert {"post", "get"} <= set(item)
    assert item["post"]["operationId"] == "redemptionCallbackPost"
    assert item["get"]["operationId"] == "redemptionCallbackGet"
    body = item["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]
    assert body["schema"] == {"$ref": "#/components/schemas/RedemptionCallbackItems"}
    items = spec["components"]["schemas"]["RedemptionCallbackItems"]
    names = [
        "id",
        "offerId",
        "merchantId",
        "distributorId",
        "code",
        "orderValue",
        "orderId",
        "currency",
        "redeemedAt",
    ]
    assert list(items["properties"]) == names
    assert "required" not in items and items["minProperties"] == 1
    assert items.get("additionalProperties", True) is not False
    assert [p["name"] for p in item["get"]["parameters"]] == names
    for method in ("post", "get"):
        assert {"2XX", "default"} <= set(item[method]["responses"])
    assert "x-uniqodo-json-variant" in item["post"]["description"]


def test_links_point_at_existing_parameters(spec: dict[str, Any]) -> None:
    ops = {op["operationId"]: (path, op) for path, _m, op, _ptr in _operations(spec)}
    links = 0
    for _path, _method, op, ptr in _operations(spec):
        for status, response in op["responses"].items():
            response, _ = _resolve(spec, response, ptr)
            for name, link in response.get("links", {}).items():
                links += 1
                assert link["operationId"] in ops, name
                target_path, target = ops[link["operationId"]]
                names = {_resolve(spec, p, "")[0]["name"] for p in target.get("parameters", [])} | {
                    part.strip("{}") for part in target_path.split("/") if part.startswith("{")
                }
                for param, expression in link["parameters"].items():
                    assert param.split(".")[-1] in names, f"{name}: {param}"
                    assert expression.startswith("$"), f"{name}: {expression}"
                assert status == "200"
    assert links >= 3


# ---------------------------------------------------------------------------- connexion


@pytest.fixture(scope="module")
def connexion_client() -> Any:
    connexion = pytest.importorskip("connexion")

    def handler(**_kwargs: Any) -> Any:
        body = {"data": None, "errors": [], "result": "success"}
        return body, 200, {"Content-Type": "application/json"}

    app = connexion.AsyncApp(__name__)
    app.add_api(SPEC_PATH, resolver=connexion.resolver.Resolver(lambda _op_id: handler))
    return app.test_client()


@pytest.mark.parametrize(
    "url",
    [
        # The docs' examples, with extra undeclared parameters.
        "/validate/64a287ae534cf1bd58f45f3e23de9d433caec669/AB12E3GH/1?email=example@email.com"
        "&pos=web&locale=en_GB&baseValidationParam=productId&itemSeparator=;"
        "&productId=123ABC;JS123EF&price=50.00;95.99&quantity=1;2&basketTotal=123.45"
        "&customerType=new&loyaltyTier=gold",
        "/redeem/64a287ae534cf1bd58f45f3e23de9d433caec669/AB12E3GH/1?orderId=145789"
        "&orderValue=219.99&discount=50.95&valKey=f458re9we73wd23dwqd23ed32d23123d2ed433d323d3"
        "&currency=GBP&p1=example1&p2=example2&p3=example3&p4=example4&p5=example5&p6=x"
        "&redemptionType=online",
        "/offers/64a287ae534cf1bd58f45f3e23de9d433caec669/",
        "/offers/64a287ae534cf1bd58f45f3e23de9d433caec669/json",
        "/code/64a287ae534cf1bd58f45f3e23de9d433caec669/4883?uid=example@email.com",
        "/code/6c702c69%24%7D89223420f4ddde4e19da4016b2f9f54c/4883",
        "/publisher/64a287ae534cf1bd58f45f3e23de9d433caec669/query/user-redemption/"
        "0821f4190897965c33eaca7954db5f23?userId=customer-8812",
        "/distributor/64a287ae534cf1bd58f45f3e23de9d433caec669/query/user-redemption/"
        "0821f4190897965c33eaca7954db5f23?userId=customer-8812",
        "/embeddable/v2/6c702c6989223420f4ddde4e19da4016b2f9f54c/"
        "0821f4190897965c33eaca7954db5f23?uid=u1&email=a@b.example",
        "/user-code-enquiry/64a287ae534cf1bd58f45f3e23de9d433caec669/"
        "0821f4190897965c33eaca7954db5f23?email=example@email.com",
        "/vcot/conversion?redemptionKey=3f9c2a7be41d4c0a9e6b5d8f7a1c2e34"
        "&awcb=https%3A%2F%2Faffiliate.example%2Fpixel&advertiserId=1",
        "/reporting/1/log?message=the+validation+call+failed&type=error",
    ],
)
def test_connexion_serves_documented_requests(connexion_client: Any, url: str) -> None:
    response = connexion_client.get(url)
    assert response.status_code == 200, response.text


def test_connexion_accepts_the_form_post(connexion_client: Any) -> None:
    response = connexion_client.post(
        "/validate/64a287ae534cf1bd58f45f3e23de9d433caec669/AB12E3GH/1",
        data={"email": "example@email.com", "basketTotal": "123.45", "loyaltyTier": "gold"},
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "url",
    [
        "/redeem/k/AB12E3GH/1",  # orderId missing
        "/validate/k/AB12E3GH/0",
        "/validate/k/AB12E3GH/1?basketTotal=abc",
        "/validate/k/AB12E3GH/1?locale=english",
        "/offers/k/csv",
        "/publisher/k/query/user-redemption/not-a-uuid?userId=u",
        "/publisher/k/query/user-redemption/0821f4190897965c33eaca7954db5f23",  # userId missing
        "/vcot/conversion?awcb=x",  # redemptionKey missing
        "/vcot/conversion?redemptionKey=k",  # awcb missing
        "/reporting/1/log?type=error",  # message missing
    ],
)
def test_connexion_rejects_malformed_requests(connexion_client: Any, url: str) -> None:
    assert connexion_client.get(url).status_code == 400
