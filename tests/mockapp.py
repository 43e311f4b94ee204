"""Helpers shared by the mock's tests: an in-process client (live servers: ``live/servers.py``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from starlette.testclient import TestClient

from uniqodo_mock.mock.app import create_app
from uniqodo_mock.mock.runtime import MockConfig

REPO = Path(__file__).resolve().parents[1]
MERCHANT_KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"
OTHER_MERCHANT_KEY = "50d858e0985ecc7f60418aaf0cc5ab587f42c257"
CODE_API_KEY = "6c702c6989223420f4ddde4e19da4016b2f9f54c"
PROMOTION = "0821f4190897965c33eaca7954db5f23"


@contextlib.contextmanager
def mock_client(db_url: str, fixtures: Path | None = None) -> Iterator[TestClient]:
    app = create_app(MockConfig(db_url=db_url, fixtures=fixtures, dispatch_callbacks=False))
    with TestClient(app, raise_server_exceptions=False) as client:
        client.app_ref = app  # type: ignore[attr-defined]
        yield client
    app.runtime.engine.dispose()  # type: ignore[attr-defined]
