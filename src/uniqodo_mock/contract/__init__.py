"""Contract tests: the schemathesis-generated suite run against any deployment of the API."""

from typing import Any

from uniqodo_mock.contract.settings import ContractSettings, is_local_url

__all__ = ["ContractSettings", "fixed_path_values", "inject_path_values", "is_local_url"]


def __getattr__(name: str) -> Any:
    # values.py imports schemathesis (slow to import): only when asked for, so that every CLI start
    # (the contract command is registered with all the others) does not pay for it.
    if name in ("fixed_path_values", "inject_path_values"):
        from uniqodo_mock.contract import values

        return getattr(values, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
