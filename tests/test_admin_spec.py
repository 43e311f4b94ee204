"""``openapi/admin.yaml``: a valid OpenAPI document that declares the admin token, and connexion
serves it with the token enforced only when the mock has one."""

from __future__ import annotations

from pathlib import Path

import httpx
import yaml
from openapi_spec_validator import validate

from uniqodo_mock.mock.runtime import MockConfig
from uniqodo_mock.testing.mock import running_mock

ADMIN_SPEC = Path(__file__).resolve().parents[1] / "openapi" / "admin.yaml"


def test_admin_spec_is_valid_and_declares_the_token() -> None:
    spec = yaml.safe_load(ADMIN_SPEC.read_text())
    validate(spec)
    schemes = spec["components"]["securitySchemes"]
    assert schemes["adminBearer"] == {**schemes["adminBearer"], "type": "http", "scheme": "bearer"}
    assert {k: schemes["adminTokenQuery"][k] for k in ("type", "in", "name")} == {
        "type": "apiKey",
        "in": "query",
        "name": "token",
    }
    assert spec["security"] == [{"adminBearer": []}, {"adminTokenQuery": []}, {}]
    assert spec["paths"]["/health"]["get"]["security"] == []


def test_connexion_serves_it_open_without_a_token(tmp_path: Path) -> None:
    with running_mock(MockConfig(db_url=f"sqlite:///{tmp_path / 'a.db'}")) as mock:
        assert httpx.get(f"{mock.url}/__admin/clock").status_code == 200
        # A stray Authorization header is no reason to refuse an open admin API.
        stray = {"Authorization": "Bearer anything"}
        assert httpx.get(f"{mock.url}/__admin/faults", headers=stray).status_code == 200


def test_connexion_serves_it_with_the_token_enforced(tmp_path: Path) -> None:
    config = MockConfig(db_url=f"sqlite:///{tmp_path / 'b.db'}", admin_token="t0ken")
    with running_mock(config) as mock:
        assert httpx.get(f"{mock.url}/__admin/health").status_code == 200
        assert httpx.get(f"{mock.url}/__admin/clock").status_code == 401
        bearer = {"Authorization": "Bearer t0ken"}
        assert httpx.get(f"{mock.url}/__admin/clock", headers=bearer).status_code == 200
        assert httpx.get(f"{mock.url}/__admin/clock?token=t0ken").status_code == 200
        assert httpx.get(f"{mock.url}/__admin/clock?token=wrong").status_code == 401
        # The admin client and snapshot work through it (the pytest plugin's path).
        assert mock.admin.snapshot()["format"].startswith("uniqodo-mock-snapshot")
