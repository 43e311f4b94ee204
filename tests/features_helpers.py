"""Shared by tests/test_features_*.py: a mock over fixtures/features.yaml, and the keys."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from uniqodo_mock.mock.app import create_app
from uniqodo_mock.mock.runtime import MockConfig
from uniqodo_mock.testing.mock import running_mock

__all__ = [
    "DIST",
    "DIST103",
    "FEATURES",
    "MERCHANT",
    "MERCHANT2",
    "features_app",
    "running_features_mock",
]

FEATURES = Path(__file__).resolve().parents[1] / "fixtures" / "features.yaml"
MERCHANT = "64a287ae534cf1bd58f45f3e23de9d433caec669"  # merchant 1 and distributor 102
DIST = MERCHANT
DIST103 = "6c702c6989223420f4ddde4e19da4016b2f9f54c"
MERCHANT2 = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c"


def features_app(db_url: str):
    return create_app(MockConfig(db_url=db_url, fixtures=FEATURES, reset_fixtures=True))


@contextmanager
def running_features_mock(db_url: str) -> Iterator[tuple[str, object]]:
    """A live mock over features.yaml on a free port; yields (base URL, app) once
    ``/__admin/health`` answers."""
    config = MockConfig(db_url=db_url, fixtures=FEATURES, reset_fixtures=True)
    with running_mock(config) as mock:
        yield mock.url, mock.app
