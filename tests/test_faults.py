"""Faults the mock survives, against real servers and real databases: a SIGKILL mid-load, the
database going away and coming back, oversized, slow and undecodable bodies, and the admin
token."""

from __future__ import annotations

import socket
import threading
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from sqlalchemy import create_engine, select
from tests.live.servers import mock_server, start_mock

from uniqodo_mock.store.engine import create_db_engine
from uniqodo_mock.store.schema import redemptions
from uniqodo_mock.testing import wait_until

pytestmark = pytest.mark.slow

KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"


def _envelope_error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["result"] == "failure" and body["data"] is None
    (error,) = body["errors"]
    assert set(error) == {"code", "message", "promotion_specific_error", "reference"}
    return error


def test_sigkill_mid_load_loses_no_acknowledged_redemption(db_url: str) -> None:
    server = start_mock(db_url)
    acknowledged: list[str] = []
    lock = threading.Lock()
    enough = threading.Event()

    def load(worker: int) -> None:
        with httpx.Client(base_url=server.url, timeout=5) as http:
            for i in range(10_000):
                try:
                    code = http.get(f"/code/{KEY}/1234", params={"uid": f"w{worker}-{i}@x.com"})
                    text_code = code.json()["data"]["code"]
                    answer = http.get(
                        f"/redeem/{KEY}/{text_code}/1",
                        params={"orderId": f"{worker}-{i}", "orderValue": "30"},
                    )
                except (httpx.HTTPError, ValueError):
                    return  # the server is gone
                body = answer.json()
                if body["result"] == "success":
                    with lock:
                        acknowledged.append(body["data"]["redemption_key"])
                        if len(acknowledged) >= 60:
                            enough.set()

    threads = [threading.Thread(target=load, args=(n,)) for n in range(8)]
    try:
        for thread in threads:
            thread.start()
        assert enough.wait(120), "the load did not get going"
        server.kill()  # SIGKILL, with requests in flight
        for thread in threads:
            thread.join(30)
    finally:
        server.kill()
    engine = create_db_engine(db_url)
    with engine.connect() as conn:
        stored = set(conn.execute(select(redemptions.c.redemption_key)).scalars())
    engine.dispose()
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged redemptions lost"
    # And a restarted replica serves the same state.
    with mock_server(db_url) as again:
        first = next(iter(acknowledged))
        assert len(acknowledged) >= 60 and first in stored
        answer = httpx.get(f"{again.url}/__admin/health", timeout=5)
        assert answer.status_code == 200


@pytest.mark.postgres
@pytest.mark.parametrize("pre_ping", ["1", "0"], ids=["pre-ping", "no-pre-ping"])
def test_postgresql_going_away_gives_503_then_recovers(pg_database: str, pre_ping: str) -> None:
    name = urlsplit(pg_database).path.lstrip("/")
    admin = "postgresql://postgres@127.0.0.1:5432/test"
    redeem = f"/redeem/{KEY}/AB12E3GH/1?orderId=o1&orderValue=20"
    env = {"UNIQODO_MOCK_DB_PRE_PING": pre_ping}
    with (
        mock_server(pg_database, env=env) as server,
        psycopg.connect(admin, autocommit=True) as pg,
    ):
        pg.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        try:
            pg.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            down = httpx.get(server.url + redeem, timeout=30)
            error = _envelope_error(down, 503)
            assert error["code"] == 341
            assert down.headers["retry-after"] == "1"
            assert httpx.get(f"{server.url}/__admin/health", timeout=30).status_code == 503
        finally:
            pg.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        # Recovery: the condition is the health endpoint answering 200 again.
        wait_until(
            lambda: httpx.get(f"{server.url}/__admin/health", timeout=30).status_code == 200,
            timeout=30,
            what="the mock to recover",
        )
        back = httpx.get(server.url + redeem, timeout=30).json()
        assert back["result"] == "success"  # nothing stored was lost: the code was unredeemed


def test_sqlite_locked_past_busy_timeout_gives_503_then_recovers(sqlite_url: str) -> None:
    redeem = f"/redeem/{KEY}/AB12E3GH/1?orderId=o1&orderValue=20"
    with mock_server(sqlite_url, "--db-busy-timeout", "200") as server:
        holder = create_engine(sqlite_url, connect_args={"isolation_level": None})
        with holder.connect() as conn:
            conn.exec_driver_sql("BEGIN EXCLUSIVE")
            down = httpx.get(server.url + redeem, timeout=30)
            assert _envelope_error(down, 503)["code"] == 341
            conn.exec_driver_sql("ROLLBACK")
        holder.dispose()
        back = httpx.get(server.url + redeem, timeout=30).json()
        assert back["result"] == "success"


def test_oversized_body_gets_413_and_server_stays_up(sqlite_url: str) -> None:
    with mock_server(sqlite_url) as server:
        url = f"{server.url}/validate/{KEY}/AB12E3GH/1"
        big = b"a=" + b"x" * (50 * 1024 * 1024)
        try:
            answer = httpx.post(
                url,
                content=big,
                headers={"content-type": "application/x-www-form-urlencoded"},
                timeout=60,
            )
            assert _envelope_error(answer, 413)["code"] == 334
        except httpx.WriteError:
            pass  # the server closed the connection mid-upload, as it may: still alive below
        # Chunked, without a declared length: cut off at the limit too.
        chunks = (b"y" * 65536 for _ in range(40))
        answer = httpx.post(
            url,
            content=chunks,
            headers={"content-type": "application/x-www-form-urlencoded"},
            timeout=60,
        )
        assert _envelope_error(answer, 413)["code"] == 334
        assert httpx.get(f"{server.url}/__admin/health", timeout=5).status_code == 200


def test_slow_body_is_cut_off_and_others_are_served(sqlite_url: str) -> None:
    with mock_server(sqlite_url, "--body-timeout", "1") as server:
        host, port = urlsplit(server.url).hostname, urlsplit(server.url).port
        with socket.create_connection((host, port), timeout=30) as slow:
            slow.sendall(
                b"POST /validate/" + KEY.encode() + b"/AB12E3GH/1 HTTP/1.1\r\n"
                b"Host: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: 1000\r\n\r\nemail="
            )
            # While the slow client dawdles, others are answered.
            assert httpx.get(f"{server.url}/__admin/health", timeout=5).status_code == 200
            raw = b""
            while chunk := slow.recv(65536):  # the server answers, then closes (timeout 30 s)
                raw += chunk
        assert raw.startswith(b"HTTP/1.1 408")
        _head, _, body = raw.partition(b"\r\n\r\n")
        assert b'"result":"failure"' in body and b'"code":333' in body


def test_form_body_not_utf8_gets_400_unsupported_body(sqlite_url: str) -> None:
    with mock_server(sqlite_url) as server:
        url = f"{server.url}/validate/{KEY}/AB12E3GH/1"
        form = {"content-type": "application/x-www-form-urlencoded"}
        for body in (b"email=%FF%FE", b"email=\xff"):
            answer = httpx.post(url, content=body, headers=form, timeout=10)
            assert _envelope_error(answer, 400)["code"] == 333
        # Declared latin-1: the same bytes are fine.
        latin = {"content-type": "application/x-www-form-urlencoded; charset=iso-8859-1"}
        answer = httpx.post(url, content=b"email=%E9", headers=latin, timeout=10)
        assert answer.status_code == 200
        ok = httpx.post(url, content=b"email=caf%C3%A9", headers=form, timeout=10)
        assert ok.status_code == 200


def test_admin_token_protects_admin_but_not_health_or_vendor_api(sqlite_url: str) -> None:
    with mock_server(sqlite_url, "--admin-token", "s3cret") as server:
        base = server.url
        assert httpx.get(f"{base}/__admin/health", timeout=5).status_code == 200
        for path in ("/__admin/docs", "/__admin/openapi.json", "/__admin/nothing"):
            denied = httpx.get(base + path, timeout=5)
            assert denied.status_code == 401, path
            assert denied.json()["error"] == "unauthorised"
        wrong = httpx.get(f"{base}/__admin/docs/", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        bearer = httpx.get(f"{base}/__admin/docs/", headers={"Authorization": "Bearer s3cret"})
        assert bearer.status_code == 200
        assert httpx.get(f"{base}/__admin/docs/?token=s3cret", timeout=5).status_code == 200
        vendor = httpx.get(f"{base}/code/{KEY}/4883?uid=a@x.com", timeout=5)
        assert vendor.json()["result"] == "success"
