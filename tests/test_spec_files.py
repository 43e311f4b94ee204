"""Every shipped spec is a valid OpenAPI document, and a spec folder given by the user is checked.

The mock trusts the files in ``openapi/`` at start (connexion's own schema check took most of the
start-up time): these tests are what makes that trust safe.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
from connexion.exceptions import InvalidSpecification
from openapi_spec_validator import validate as validate_spec

from uniqodo_mock.mock.app import create_app
from uniqodo_mock.mock.runtime import MockConfig, build_runtime
from uniqodo_mock.specs import load_spec, spec_dir

SPECS = sorted(path.name for path in spec_dir().glob("*.yaml"))


def test_the_specs_folder_holds_the_served_specs() -> None:
    assert {"uniqodo.yaml", "admin.yaml", "email.yaml"} <= set(SPECS)


@pytest.mark.parametrize("name", SPECS)
def test_shipped_spec_is_valid_openapi(name: str) -> None:
    validate_spec(copy.deepcopy(load_spec(name)))


def test_a_user_spec_folder_is_still_validated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "openapi"
    shutil.copytree(spec_dir(), folder)
    admin = folder / "admin.yaml"
    # A path item that is not an object: connexion's schema check must reject the document.
    text = admin.read_text(encoding="utf-8")
    admin.write_text(text.replace("\npaths:\n", "\npaths:\n  /broken: 42\n", 1), encoding="utf-8")
    monkeypatch.setenv("UNIQODO_MOCK_SPEC_DIR", str(folder))
    load_spec.cache_clear()
    runtime = build_runtime(MockConfig(db_url=f"sqlite:///{tmp_path}/m.db"))
    try:
        with pytest.raises(InvalidSpecification):
            create_app(runtime=runtime)
    finally:
        runtime.engine.dispose()
        load_spec.cache_clear()
