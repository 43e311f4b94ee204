"""Cross-origin calls (``mock/cors.py``): a shop's page on its own origin calls the mock with
``fetch``. Any origin by default, the origins of ``--cors-origins`` when given, none with
``--no-cors``; never the admin API."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient
from tests.chromium import ARGS, CHROMIUM
from tests.mockapp import CODE_API_KEY, MERCHANT_KEY

from uniqodo_mock.cli import cli
from uniqodo_mock.mock.app import create_app
from uniqodo_mock.mock.runtime import MockConfig
from uniqodo_mock.testing.mock import running_mock

SHOP = "http://shop.test:8000"
OTHER = "http://elsewhere.test:9000"
VALIDATE = f"/validate/{MERCHANT_KEY}/AB12E3GH/1"


@contextmanager
def client_of(tmp_path: Path, **config: Any) -> Iterator[TestClient]:
    app = create_app(
        MockConfig(db_url=f"sqlite:///{tmp_path / 'state.db'}", dispatch_callbacks=False, **config)
    )
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client
    finally:
        app.runtime.close()


def preflight(client: TestClient, path: str, origin: str = SHOP) -> Any:
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )


def test_any_origin_by_default(tmp_path: Path) -> None:
    with client_of(tmp_path) as client:
        answered = preflight(client, VALIDATE)
        assert answered.status_code == 200
        assert answered.headers["access-control-allow-origin"] == "*"
        assert {"GET", "POST", "OPTIONS"} <= {
            m.strip() for m in answered.headers["access-control-allow-methods"].split(",")
        }
        validated = client.get(VALIDATE, headers={"Origin": SHOP})
        assert validated.headers["access-control-allow-origin"] == "*"
        assert validated.json()["result"] == "success"
        # A call without Origin (a server's) gets no CORS headers.
        assert "access-control-allow-origin" not in client.get(VALIDATE).headers


def test_errors_and_kept_answers_carry_the_headers_too(tmp_path: Path) -> None:
    code = f"/code/{CODE_API_KEY}/1234?uid=cors@example.com"
    with client_of(tmp_path) as client:
        first = client.get(code)  # computed, then kept by the answer cache
        again = client.get(code, headers={"Origin": SHOP})
        assert again.headers["access-control-allow-origin"] == "*"
        assert again.json()["data"]["code"] == first.json()["data"]["code"]
        # A page reads the envelope of an error the same way.
        unknown = client.get("/code/not-a-key/1234?uid=a", headers={"Origin": SHOP})
        assert unknown.status_code == 401
        assert unknown.headers["access-control-allow-origin"] == "*"
        assert unknown.json()["result"] == "failure"
        # ... and of a request connexion refuses before any handler.
        refused = client.get(f"/code/{CODE_API_KEY}/not-a-number", headers={"Origin": SHOP})
        assert refused.status_code == 400
        assert refused.headers["access-control-allow-origin"] == "*"


def test_the_configured_origins_only(tmp_path: Path) -> None:
    with client_of(tmp_path, cors_origins=(SHOP,)) as client:
        allowed = preflight(client, VALIDATE)
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == SHOP
        assert (
            client.get(VALIDATE, headers={"Origin": SHOP}).headers["access-control-allow-origin"]
            == SHOP
        )
        refused = preflight(client, VALIDATE, OTHER)
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
        other = client.get(VALIDATE, headers={"Origin": OTHER})
        assert "access-control-allow-origin" not in other.headers


def test_no_cors(tmp_path: Path) -> None:
    with client_of(tmp_path, cors_origins=()) as client:
        # No preflight answer: OPTIONS is not one of the operation's methods.
        answered = preflight(client, VALIDATE)
        assert answered.status_code == 405
        assert answered.json()["result"] == "failure"
        assert "access-control-allow-origin" not in answered.headers
        got = client.get(VALIDATE, headers={"Origin": SHOP})
        assert got.json()["result"] == "success"
        assert "access-control-allow-origin" not in got.headers


def test_the_admin_api_never_answers_other_origins(tmp_path: Path) -> None:
    with client_of(tmp_path) as client:
        health = client.get("/__admin/health", headers={"Origin": SHOP})
        assert health.status_code == 200
        assert "access-control-allow-origin" not in health.headers
        assert "access-control-allow-origin" not in preflight(client, "/__admin/reset").headers


def test_the_embeddable_and_email_routes_answer_other_origins(tmp_path: Path) -> None:
    with client_of(tmp_path) as client:
        for path in ("/embeddable-code/x/y", "/__email/outbox"):
            got = client.get(path, headers={"Origin": SHOP})
            assert got.headers["access-control-allow-origin"] == "*", path


@pytest.mark.parametrize(
    ("argument", "problem"),
    [
        ("localhost:3000", "'localhost:3000' is not an origin"),
        ("http://shop.test/basket", "'http://shop.test/basket' is not an origin"),
        ("ftp://shop.test", "'ftp://shop.test' is not an origin"),
    ],
)
def test_a_bad_origin_is_one_line(argument: str, problem: str) -> None:
    result = CliRunner().invoke(cli, ["serve", "--cors-origins", argument])
    assert result.exit_code == 2
    assert problem in result.output
    assert "Traceback" not in result.output


# ---------------------------------------------------------------------------- in a browser


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Your code</title></head>
<body>
<p>Your code: <span id="code">...</span>, valid until <span id="end">...</span></p>
<script>
  fetch("{mock}/code/{key}/1234?uid=browser@example.com")
    .then(function (answer) {{ return answer.json(); }})
    .then(function (body) {{
      document.getElementById("code").textContent = body.data.code;
      document.getElementById("end").textContent = body.data.endDate;
    }})
    .catch(function (error) {{ document.getElementById("code").textContent = "blocked"; }});
</script>
</body></html>
"""


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A shop's site on its own origin (shop.test, mapped to 127.0.0.1 in the browser)."""
    root = tmp_path / "shop"
    root.mkdir()
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, name="shop", daemon=True)
    thread.start()
    try:
        yield root, f"http://shop.test:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[*ARGS, "--host-resolver-rules=MAP shop.test 127.0.0.1"],
            headless=True,
        )
        try:
            yield browser
        finally:
            browser.close()


def shown_code(chromium: Any, root: Path, origin: str, mock_url: str) -> tuple[str, str]:
    (root / "code.html").write_text(PAGE.format(mock=mock_url, key=CODE_API_KEY))
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.goto(f"{origin}/code.html")
        page.wait_for_function("document.getElementById('code').textContent !== '...'")
        return page.text_content("#code") or "", page.text_content("#end") or ""
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize("allowed", ["*", "shop"])
def test_a_page_of_another_origin_shows_the_code(
    tmp_path: Path, shop: tuple[Path, str], chromium: Any, allowed: str
) -> None:
    root, origin = shop
    origins = ("*",) if allowed == "*" else (origin,)
    config = MockConfig(db_url=f"sqlite:///{tmp_path / 'state.db'}", cors_origins=origins)
    with running_mock(config) as mock:
        code, end = shown_code(chromium, root, origin, mock.url)
        issued = mock.app.runtime.service.issue_code(CODE_API_KEY, 1234, "browser@example.com")
        assert code == issued.data["code"]
        assert end == issued.data["endDate"]


@pytest.mark.browser
def test_a_page_of_an_origin_not_allowed_is_refused_by_the_browser(
    tmp_path: Path, shop: tuple[Path, str], chromium: Any
) -> None:
    root, origin = shop
    config = MockConfig(db_url=f"sqlite:///{tmp_path / 'state.db'}", cors_origins=(OTHER,))
    with running_mock(config) as mock:
        assert shown_code(chromium, root, origin, mock.url) == ("blocked", "...")


def _answering(headers: list[tuple[bytes, bytes]]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})

    return app


@pytest.mark.parametrize(
    "headers",
    [
        [(b"content-type", b"application/json")],
        [(b"content-type", b"application/json"), (b"vary", b"Accept-Encoding")],
        [(b"vary", b"Accept"), (b"content-type", b"text/plain"), (b"vary", b"Cookie")],
    ],
)
@pytest.mark.parametrize("origins", [("*",), (SHOP,)])
def test_answers_to_requests_without_an_origin_vary_as_starlette_makes_them(
    headers: list[tuple[bytes, bytes]], origins: tuple[str, ...]
) -> None:
    from starlette.middleware.cors import CORSMiddleware

    from uniqodo_mock.mock.cors import CrossOriginMiddleware

    ours = CrossOriginMiddleware(_answering(list(headers)), origins=origins)
    theirs = CORSMiddleware(
        _answering(list(headers)),
        allow_origins=list(origins),
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["*"],
        expose_headers=["Retry-After", "Content-Length"],
        max_age=600,
    )
    # Not entered: these bare apps know no lifespan.
    a, b = TestClient(ours), TestClient(theirs)
    for request in ({}, {"accept": "application/json"}):
        mine = a.get("/validate/x", headers=request)
        starlettes = b.get("/validate/x", headers=request)
        assert sorted(mine.headers.multi_items()) == sorted(starlettes.headers.multi_items())
        assert mine.headers["vary"].endswith("Origin")


def test_kept_answers_say_vary_origin_once(tmp_path: Path) -> None:
    with client_of(tmp_path) as client:
        first, second = client.get(VALIDATE), client.get(VALIDATE)  # the second is kept
        for answered in (first, second):
            assert answered.status_code == 200
            assert answered.headers.get_list("vary") == ["Origin"]
        assert second.content == first.content
