"""The mock server: a connexion AsyncApp (``mock.app.create_app``) over the specs, its
middlewares, the vendor and admin handlers and the worker processes. Import the modules
themselves (``uniqodo_mock.mock.app``).

connexion is imported here, before any module of the package uses it, with the deprecation
warnings its own import raises silenced (those warnings only, only during that import): they
are about connexion's imports, not about anything the mock or a partner's code does, and a
partner's test run (``-W error``, a warnings summary) would otherwise show them on every run.
"""

import warnings

with warnings.catch_warnings():
    # connexion.apps.abstract imports starlette's TestClient, which warns that it is built
    # on httpx (StarletteDeprecationWarning, a UserWarning).
    warnings.filterwarnings(
        "ignore",
        message=r"Using `httpx` with `starlette\.testclient` is deprecated",
        category=UserWarning,
    )
    # connexion.json_schema imports jsonschema's RefResolver and RefResolutionError.
    warnings.filterwarnings(
        "ignore", message=r"jsonschema\.RefResolver is deprecated", category=DeprecationWarning
    )
    warnings.filterwarnings(
        "ignore",
        message=r"jsonschema\.exceptions\.RefResolutionError is deprecated",
        category=DeprecationWarning,
    )
    import connexion  # noqa: F401

__all__: list[str] = []
