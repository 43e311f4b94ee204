"""A SIGKILL mid-load loses no acknowledged call: calls are committed before they are answered."""

from __future__ import annotations

import os
import signal
import threading

import httpx
import pytest
from tests.live.servers import start_server

from uniqodo_mock.receiver.filters import parse_filter
from uniqodo_mock.receiver.store import CallStore
from uniqodo_mock.store.engine import create_db_engine

pytestmark = pytest.mark.slow


def test_sigkill_mid_load_loses_no_acknowledged_call(db_url: str) -> None:
    server = start_server("receiver", db_url, health_path="/__receiver/health")
    url, process = server.url, server.process
    try:
        acknowledged: list[int] = []
        lock = threading.Lock()
        enough = threading.Event()

        def load() -> None:
            with httpx.Client(base_url=url, timeout=5) as http:
                for i in range(100_000):
                    try:
                        answer = http.post("/hook", content=f"code=K{i}")
                    except httpx.HTTPError:
                        return  # the receiver is gone
                    if answer.status_code == 204:
                        with lock:
                            acknowledged.append(int(answer.headers["x-receiver-call-id"]))
                            if len(acknowledged) >= 300:
                                enough.set()

        threads = [threading.Thread(target=load) for _ in range(20)]
        for thread in threads:
            thread.start()
        assert enough.wait(60), "the load did not get going"
        os.kill(process.pid, signal.SIGKILL)  # mid-load: requests are in flight
        for thread in threads:
            thread.join(30)
    finally:
        process.kill()
        process.wait(10)
    engine = create_db_engine(db_url)
    stored = {call.id for call in CallStore(engine).list(parse_filter([]), limit=10**6)}
    engine.dispose()
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged calls lost"
    assert len(acknowledged) >= 300
