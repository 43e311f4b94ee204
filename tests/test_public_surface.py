"""The public surface partners' code may rely on, pinned (as httpx pins its own): adding a name
is a decision, removing one breaks someone. And every module says what it exports."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import pytest

import uniqodo_mock
import uniqodo_mock.testing

PUBLIC = [
    "AdminClient",
    "MockConfig",
    "ReceiverClient",
    "ReceiverSettings",
    "RunningMock",
    "RunningReceiver",
    "__version__",
    "create_app",
    "create_receiver_app",
    "running_mock",
    "running_receiver",
    "wait_until",
]

TESTING = [
    "DEFAULT_CALLBACK_PARAMS",
    "DISTRIBUTOR_KEY",
    "MERCHANT_KEY",
    "RunningMock",
    "RunningReceiver",
    "reset_state",
    "running_mock",
    "running_receiver",
    "subscribe_callbacks",
    "wait_until",
]


def test_the_package_exports_exactly_its_public_surface() -> None:
    assert uniqodo_mock.__all__ == PUBLIC
    for name in PUBLIC:
        assert getattr(uniqodo_mock, name) is not None, name
    assert sorted(dir(uniqodo_mock)) == sorted(PUBLIC)
    with pytest.raises(AttributeError, match="no attribute 'Repository'"):
        uniqodo_mock.Repository  # noqa: B018 - internal: not on the surface


def test_the_public_names_are_the_real_ones() -> None:
    from uniqodo_mock.mock.app import create_app
    from uniqodo_mock.testing.mock import running_mock

    assert uniqodo_mock.create_app is create_app
    assert uniqodo_mock.running_mock is running_mock


def test_the_testing_package_exports_exactly_its_surface() -> None:
    assert uniqodo_mock.testing.__all__ == TESTING
    for name in TESTING:
        assert hasattr(uniqodo_mock.testing, name), name


def test_importing_the_package_loads_no_server() -> None:
    # The CLI imports the package: the mock's framework is loaded only when a name needs it.
    probe = "import sys, uniqodo_mock; print('connexion' in sys.modules)"
    shown = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert shown.stdout.strip() == "False"


def _modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(uniqodo_mock.__path__, "uniqodo_mock."):
        if ".migrations" in info.name or info.name.endswith("__main__"):
            continue  # Alembic's revision scripts and the `python -m` entry are not modules to import
        names.append(info.name)
    return names


@pytest.mark.parametrize("name", _modules())
def test_every_module_declares_what_it_exports(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert isinstance(exported, list | tuple), f"{name} has no __all__"
    missing = [item for item in exported if not hasattr(module, item)]
    assert not missing, f"{name}.__all__ names what it does not define: {missing}"
