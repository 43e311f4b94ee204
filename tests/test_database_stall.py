"""A PostgreSQL server that stops answering (a network stall) holds up the requests that need
it, and only those: they get 503 in the envelope with ``Retry-After`` within the mock's database
timeout, while health, the docs and the admin API keep answering; once the database answers
again the mock serves as before, by itself. The stall is real: a TCP proxy between the mock
and PostgreSQL that stops passing bytes."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest
from tests.live.servers import mock_server

from uniqodo_mock.testing import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"
PROMOTION = "0821f4190897965c33eaca7954db5f23"


class StallingProxy:
    """Forwards TCP connections to ``target``; ``stall()`` stops passing bytes (connections stay
    open and new ones are accepted, as when a network path hangs), ``resume()`` passes them on."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._flowing = threading.Event()
        self._flowing.set()
        self._closing = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def stall(self) -> None:
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def close(self) -> None:
        self._closing.set()
        self._flowing.set()
        for sock in [self._listener, *self._sockets]:
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            self._sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        while not self._closing.is_set():
            self._flowing.wait()
            try:
                data = source.recv(65536)
            except OSError:
                data = b""
            if not data:
                with contextlib.suppress(OSError):
                    sink.shutdown(socket.SHUT_WR)
                return
            self._flowing.wait()  # bytes read before a stall wait for the resume
            try:
                sink.sendall(data)
            except OSError:
                return


@pytest.fixture
def proxy() -> Iterator[StallingProxy]:
    stalling = StallingProxy(("127.0.0.1", 5432))
    yield stalling
    stalling.close()


def test_a_stalled_database_gets_503_while_the_rest_keeps_answering(
    pg_database: str, proxy: StallingProxy
) -> None:
    through_proxy = pg_database.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    # Every answer below must come within the client's timeout: no request may hang.
    with (
        mock_server(through_proxy, "--db-timeout", "2") as server,
        httpx.Client(base_url=server.url, timeout=4.5) as client,
    ):
        code_url = f"/code/{KEY}/4883"
        assert client.get(code_url, params={"uid": "before@x"}).json()["result"] == "success"

        proxy.stall()
        stalled = client.get(code_url, params={"uid": "during@x"})
        assert stalled.status_code == 503
        assert stalled.headers["retry-after"] == "1"
        body = stalled.json()
        assert body["result"] == "failure" and body["data"] is None
        assert body["errors"][0]["code"] is not None
        query = client.get(
            f"/publisher/{KEY}/query/user-redemption/{PROMOTION}", params={"userId": "ABC123"}
        )
        assert query.status_code == 503

        # What needs no database answers as usual; health says the database is away.
        health = client.get("/__admin/health")
        assert health.status_code == 503
        assert health.json()["status"] == "unavailable"
        assert client.get("/__admin/docs/").status_code == 200
        assert client.get("/openapi.json").status_code == 200
        # The test controls are in the database (shared by every replica): away with it.
        for path in ("/__admin/journal", "/__admin/faults"):
            answer = client.get(path)
            assert answer.status_code == 503, answer.text
            assert answer.json()["result"] == "failure"

        proxy.resume()

        def recovered() -> bool:
            answer = client.get(code_url, params={"uid": "after@x"})
            return answer.status_code == 200 and answer.json()["result"] == "success"

        wait_until(recovered, what="the mock to serve again", timeout=60)
        assert client.get("/__admin/health").json()["status"] == "ok"
        # The stalled request was answered 503: the customer it named holds no code.
        history = client.get(
            f"/publisher/{KEY}/query/user-redemption/{PROMOTION}",
            params={"userId": "during@x"},
        ).json()
        assert history["errors"][0]["code"] == 204, history
