"""`uniqodo-mock contract` over real HTTP: it passes against `uniqodo-mock serve`, and fails,
naming operation and check, against a deliberately broken deployment."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import orjson
from click.testing import CliRunner
from tests.live.servers import free_port, mock_server

from uniqodo_mock.cli import _register, cli
from uniqodo_mock.contract.settings import is_local_url
from uniqodo_mock.mock.app import create_app
from uniqodo_mock.mock.runtime import MockConfig
from uniqodo_mock.serving import serve_in_thread

_register()


def _contract(url: str, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["contract", "--base-url", url, "--seed", "7", *extra], catch_exceptions=False
    )
    return result.exit_code, result.output


def test_contract_passes_against_serve(tmp_path: Path) -> None:
    junit = tmp_path / "contract.xml"
    with mock_server(f"sqlite:///{tmp_path / 'state.db'}") as server:
        code, output = _contract(
            server.url,
            "--max-examples",
            "10",
            "--junit-xml",
            str(junit),
            "--report-dir",
            str(tmp_path / "har"),
        )
    assert code == 0, output
    assert "everything conforms" in output
    assert "13 operations, 13 conform, 0 do not" in output
    hars = list((tmp_path / "har").glob("*.har"))
    assert hars and '"entries"' in hars[0].read_text()
    cases = list(ET.parse(junit).getroot().iter("testcase"))
    names = {c.get("name") for c in cases}
    assert "GET /redeem/{api_key}/{code}/{merchant_id}" in names
    assert len(cases) >= 10
    assert not [c for c in cases if c.find("failure") is not None or c.find("error") is not None]


class _BreakCodeResponses:
    """ASGI middleware that breaks the contract of GET /code: drops `result` and turns
    `data.code` into a number."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.app = app

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] != "http" or not scope["path"].startswith("/code/"):
            await self.app(scope, receive, send)
            return
        start: dict = {}
        chunks: list[bytes] = []

        async def capture(message) -> None:  # type: ignore[no-untyped-def]
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = orjson.loads(b"".join(chunks))
            body.pop("result", None)
            if isinstance(body.get("data"), dict):
                body["data"]["code"] = 12345
            raw = orjson.dumps(body)
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(raw)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": raw})

        await self.app(scope, receive, capture)


def test_contract_fails_against_a_broken_deployment(tmp_path: Path) -> None:
    app = create_app(MockConfig(db_url=f"sqlite:///{tmp_path / 'state.db'}"))
    junit = tmp_path / "contract.xml"
    with serve_in_thread(_BreakCodeResponses(app), health_path="/__admin/health") as served:
        code, output = _contract(served.url, "--max-examples", "5", "--junit-xml", str(junit))
    assert code != 0
    assert "GET /code/{api_key}/{offer_id}" in output
    assert "Response violates schema" in output
    assert "curl -X GET" in output
    failed = {
        c.get("name")
        for c in ET.parse(junit).getroot().iter("testcase")
        if c.find("failure") is not None
    }
    assert "GET /code/{api_key}/{offer_id}" in failed


def test_only_loopback_urls_count_as_local() -> None:
    assert is_local_url("http://127.0.0.1:8080")
    assert is_local_url("http://localhost:8080")
    assert is_local_url("http://[::1]:8080")
    assert not is_local_url("https://api.uniqodo.com")
    assert not is_local_url("http://10.0.0.5")


def test_a_remote_run_never_redeems_and_is_rate_limited_unless_asked(tmp_path: Path) -> None:
    from uniqodo_mock.contract.runner import schemathesis_args
    from uniqodo_mock.contract.settings import ContractSettings

    remote = schemathesis_args(ContractSettings("https://api.example.com"), tmp_path / "j.xml")
    assert "uniqodo_mock.mock.api.redeem_code" in remote
    assert remote[remote.index("--rate-limit") + 1] == "5/s"
    allowed = schemathesis_args(
        ContractSettings("https://api.example.com", allow_redeem=True, rate_limit="2/s"),
        tmp_path / "j.xml",
    )
    assert "uniqodo_mock.mock.api.redeem_code" not in allowed
    assert allowed[allowed.index("--rate-limit") + 1] == "2/s"
    local = schemathesis_args(ContractSettings("http://127.0.0.1:1"), tmp_path / "j.xml")
    assert "--exclude-operation-id" not in local and "--rate-limit" not in local


def test_an_unreachable_base_url_is_one_clear_error() -> None:

    code, output = _contract(f"http://127.0.0.1:{free_port()}")
    assert code == 1
    assert "cannot reach http://127.0.0.1:" in output
    assert "Traceback" not in output
