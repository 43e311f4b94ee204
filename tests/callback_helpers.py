"""Shared helpers of the callback tests: a live mock + receiver, code issuing, waiting on
conditions with a deadline (never a fixed sleep)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import uvicorn
import yaml

from uniqodo_mock.dispatch import DispatchSettings
from uniqodo_mock.receiver.app import create_receiver_app
from uniqodo_mock.receiver.settings import ReceiverSettings
from uniqodo_mock.serving import server_config
from uniqodo_mock.testing import wait_until

MERCHANT_KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"
DISTRIBUTOR_102 = "64a287ae534cf1bd58f45f3e23de9d433caec669"
DEFAULT_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "default.yaml"
# Small backoff so retries happen within a test; plenty of attempts so none gives up.
FAST = DispatchSettings(
    max_attempts=200, backoff_base=0.05, backoff_cap=0.2, poll_interval=0.1, timeout=2.0
)

T = TypeVar("T")


def redeem(mock_http: Any, code: str, order_id: str, **params: str) -> dict[str, Any]:
    response = mock_http.get(
        f"/redeem/{MERCHANT_KEY}/{code}/1", params={"orderId": order_id, **params}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["result"] == "success", body
    return body["data"]


def issue(mock_http: Any, offer_id: int, uid: str, key: str = DISTRIBUTOR_102) -> str:
    response = mock_http.get(f"/code/{key}/{offer_id}", params={"uid": uid})
    assert response.status_code == 200, response.text
    return response.json()["data"]["code"]


def fields(call: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in call["params"]}


def header(call: dict[str, Any], name: str) -> str | None:
    return next((v for k, v in call["headers"] if k.lower() == name.lower()), None)


def deliveries(mock_http: Any, **params: Any) -> list[dict[str, Any]]:
    response = mock_http.get("/__admin/deliveries", params=params)
    assert response.status_code == 200, response.text
    return response.json()["deliveries"]


def fixture_with(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    data = yaml.safe_load(DEFAULT_FIXTURES.read_text())
    change(data)
    path = tmp_path / "fixtures.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@contextmanager
def receiver_on_port(settings: ReceiverSettings, port: int) -> Iterator[str]:
    """A receiver on a chosen port (the one a subscription already points at)."""
    app = create_receiver_app(settings)
    server = uvicorn.Server(
        server_config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), what="receiver start")
    assert server.started, "the receiver could not bind its port"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        app.state.receiver.closing = True
        server.should_exit = True
        thread.join(15)
