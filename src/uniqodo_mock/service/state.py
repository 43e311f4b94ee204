"""What every operation of the service shares: the store, the clock, the settings and error
catalogue in force, and the outcome type the operations return."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from uniqodo_mock.core.clock import Clock
from uniqodo_mock.core.codes import derived_token
from uniqodo_mock.core.errors import ErrorCatalogue, VendorError, default_catalogue
from uniqodo_mock.store.repository import Repository

__all__ = ["Outcome", "ServiceSettings", "ServiceState"]


@dataclass
class Outcome:
    """What an operation answers: ``data`` and the vendor errors beside it (possibly both).

    ``keep_until``: set by operations that only read. The same request, while the stored state
    does not change, gets the same answer until that moment on the mock's clock; None: the
    operation wrote, and its answer must not be reused."""

    data: Any
    errors: list[VendorError] = field(default_factory=list)
    keep_until: datetime | None = None


@dataclass(frozen=True)
class ServiceSettings:
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/London"))
    require_val_key: bool = False
    seed: int | str = 0
    default_locale: str = "en"
    # The Reward API's answer per error key, {key: {status, message}} (mock/reward.py).
    reward_errors: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # Vendor answers end with a newline (x-source: simulator); false: the platform's bytes.
    answer_newline: bool = True

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any] | None) -> ServiceSettings:
        raw = raw or {}
        return cls(
            zone=ZoneInfo(raw.get("timezone", "Europe/London")),
            require_val_key=bool(raw.get("require_val_key", False)),
            seed=raw.get("seed", 0),
            default_locale=raw.get("default_locale", "en"),
            reward_errors=dict(raw.get("reward_errors") or {}),
            answer_newline=bool(raw.get("answer_newline", True)),
        )


class ServiceState:
    """The store, the clock, and the settings and catalogue of the loaded fixtures."""

    def __init__(
        self,
        repo: Repository,
        clock: Clock,
        settings: ServiceSettings | None = None,
        catalogue: ErrorCatalogue | None = None,
    ) -> None:
        self.repo = repo
        self.clock = clock
        self.settings = settings or ServiceSettings()
        self.catalogue = catalogue or default_catalogue()
        # Counts reloads: answers computed under other settings are not this state's.
        self.generation = 0

    def reload_settings(self) -> None:
        """Read settings and error-catalogue overrides from the loaded fixtures."""
        with self.repo.read() as conn:
            settings = self.repo.get_meta(conn, "settings")
            overrides = self.repo.get_meta(conn, "errors")
        self.settings = ServiceSettings.from_mapping(settings)
        self.catalogue = default_catalogue().with_overrides(overrides)
        self.generation += 1

    def token(self, kind: str, *parts: object, length: int = 44) -> str:
        """A key derived from the fixtures' seed (validation keys, redemption keys, lock
        sessions): the same state and requests give the same keys."""
        return derived_token(self.settings.seed, kind, *parts, length=length)
