"""Contract tests: the schemathesis-generated suite run against any deployment of the API."""

from uniqodo_mock.contract.settings import ContractSettings, is_local_url
from uniqodo_mock.contract.values import fixed_path_values, inject_path_values

__all__ = ["ContractSettings", "fixed_path_values", "inject_path_values", "is_local_url"]
