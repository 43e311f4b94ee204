"""`uniqodo-mock contract` over real HTTP: it passes against `uniqodo-mock serve` with quiet,
truthful output, and fails, naming operation and check, against a deliberately broken
deployment; against `uniqodo-mock up` it refuses to flood QA's receiver, and with --isolate it
leaves the mock's state as it found it."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from click.testing import CliRunner
from tests.live.servers import free_port, mock_server
from tests.test_up import KEY, uniqodo_up

from uniqodo_mock.cli import _register, cli
from uniqodo_mock.contract.settings import is_local_url
from uniqodo_mock.mock.app import create_app
from uniqodo_mock.mock.runtime import MockConfig, ensure_receiver_subscription
from uniqodo_mock.receiver.client import ReceiverClient
from uniqodo_mock.receiver.settings import ReceiverSettings
from uniqodo_mock.serving import serve_in_thread
from uniqodo_mock.specs import load_spec
from uniqodo_mock.testing.mock import running_mock
from uniqodo_mock.testing.receiver import running_receiver

_register()

# The variables the command reads: unset, so that only the command lines below count.
_CLEAN_ENV = {"UNIQODO_BASE_URL": None, "UNIQODO_MOCK_URL": None, "UNIQODO_MOCK_ADMIN_TOKEN": None}


def _contract(url: str, *extra: str) -> tuple[int, str]:
    result = CliRunner(env=_CLEAN_ENV).invoke(
        cli, ["contract", "--url", url, "--seed", "7", *extra], catch_exceptions=False
    )
    return result.exit_code, result.output


def _named_paths(output: str) -> list[str]:
    """Every path under the temporary folder the output names (where pytest's tmp_path and
    the run's own temporary folder both live)."""
    root = re.escape(tempfile.gettempdir())
    return [p.rstrip(",;.") for p in re.findall(rf"{root}/\S+", output)]


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
    assert "14 operations, 14 conform, 0 do not" in output
    hars = list((tmp_path / "har").glob("*.har"))
    assert hars and '"entries"' in hars[0].read_text()
    # Quiet and truthful: a line per phase, nothing that looks like a failure.
    for phase in ("examples", "coverage", "fuzzing", "stateful"):
        assert re.search(rf"^  {phase} .* ok$", output, re.MULTILINE), output
    assert re.search(r"^\d+ generated test cases, 0 failed, in ", output, re.MULTILINE), output
    assert "Failed to extract" not in output and "curl" not in output
    assert not re.search(r"^(FAILED|ERROR)\b", output, re.MULTILINE), output
    # Only the reports that outlive the command are named, and they exist.
    assert f"reports: JUnit {junit}, HAR {tmp_path / 'har' / 'contract.har'}" in output
    assert _named_paths(output) and all(Path(p).exists() for p in _named_paths(output))
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
    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner(env=_CLEAN_ENV).invoke(cli, ["contract", "--url", url])
    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        f"Error: cannot connect to {url} (connection refused): is the API running there? start "
        "the mock with `uniqodo-mock up`, or pass the deployment's address with --url"
    ]
    assert result.stdout == ""


def test_a_run_without_reports_names_no_file(tmp_path: Path) -> None:
    app = create_app(MockConfig(db_url=f"sqlite:///{tmp_path / 'state.db'}"))
    with serve_in_thread(app, health_path="/__admin/health") as served:
        code, output = _contract(served.url, "--max-examples", "2")
    assert code == 0, output
    assert "reports:" not in output and "junit" not in output.lower()
    assert "uqm-contract-" not in output
    # Nothing under the run's temporary folder (deleted when the command ends) is named.
    assert _named_paths(output) == [], output


@pytest.fixture(scope="module")
def qa_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """QA's `uniqodo-mock up`: the mock with its `up` subscription to the receiver."""
    folder = tmp_path_factory.mktemp("up")
    with uniqodo_up(f"sqlite:///{folder / 'state.db'}", folder / "up.log") as (api, receiver):
        yield api, receiver


def test_a_run_against_up_refuses_to_send_callbacks_to_qa(qa_up: tuple[str, str]) -> None:
    api, receiver = qa_up
    [subscription] = httpx.get(f"{api}/__admin/callbacks").json()["subscriptions"]
    assert subscription["origin"] == "up"
    result = CliRunner(env=_CLEAN_ENV).invoke(
        cli, ["contract", "--url", api, "--max-examples", "1"]
    )
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"Error: contract: refusing to run: the run redeems codes and {api} would send a "
        f"callback for each to its subscription(s) #{subscription['id']} (origin up, POST "
        f"{receiver}/callback); pass --isolate to pause them and put the mock's state back "
        "afterwards, or --allow-callbacks to send them anyway"
    ]
    with ReceiverClient(receiver) as calls:
        assert calls.count() == 0


def test_isolate_leaves_the_mock_as_it_was_and_sends_no_callback(
    qa_up: tuple[str, str], tmp_path: Path
) -> None:
    api, receiver = qa_up
    httpx.delete(f"{api}/__admin/journal").raise_for_status()
    before = httpx.get(f"{api}/__admin/snapshot").json()
    code, output = _contract(api, "--isolate", "--max-examples", "3")
    after = httpx.get(f"{api}/__admin/snapshot").json()
    journal = httpx.get(f"{api}/__admin/journal", params={"operation": "redeem_code"}).json()
    assert code == 0, output
    assert f"isolate: saved the state of {api} (" in output
    assert "1 callback subscription(s) paused" in output
    assert f"isolate: the state of {api} is back as it was before the run" in output
    # The run redeemed codes (the journal keeps what the mock answered) ...
    assert re.search(r"^GET /redeem/\S+ +ok", output, re.MULTILINE), output
    redeemed = [e for e in journal["entries"] if e["status"] == 200 and not e["errors"]]
    assert redeemed, journal
    # ... yet every table is as it was: codes, redemptions, subscriptions, the outbox.
    assert after == before
    with ReceiverClient(receiver) as calls:
        assert calls.count() == 0
        # The subscription is back and works: QA's next redemption is called back.
        redeemed = httpx.get(f"{api}/redeem/{KEY}/AB12E3GH/1", params={"orderId": "QA-1"})
        assert redeemed.json()["result"] == "success"
        call = calls.wait(timeout=20, after=0, param="code:AB12E3GH")
    assert call["body_text"] == "code=AB12E3GH&orderId=QA-1"


def test_allow_callbacks_runs_and_the_subscription_gets_the_callbacks(tmp_path: Path) -> None:
    settings = ReceiverSettings(db_url=f"sqlite:///{tmp_path / 'r.db'}")
    config = MockConfig(db_url=f"sqlite:///{tmp_path / 'state.db'}")
    with running_receiver(settings) as receiver, running_mock(config) as mock:
        mock.runtime.config.receiver_url = f"{receiver.url}/callback"
        ensure_receiver_subscription(mock.runtime)  # as `uniqodo-mock up` does
        code, output = _contract(mock.url, "--allow-callbacks", "--max-examples", "3")
        assert code == 0, output
        with receiver.client() as calls:
            # What --isolate spares QA: the run's redemptions are called back.
            first = calls.wait(timeout=20, after=0, path="/callback")
    assert first["method"] == "POST"


class _Failure:
    """The fields of schemathesis's ExtractionFailure that the classification reads."""

    def __init__(self, link: str, parameter: str, expression: str, body: bytes) -> None:
        self.id = link
        self.parameter_name = parameter
        self.expression = expression
        self.response = type("Response", (), {"content": body})()
        self.error = None


def test_link_steps_that_cannot_be_taken_are_told_apart() -> None:
    from uniqodo_mock.contract.output import link_notes

    redeem = "GET /validate/{a}/{c}/{m} -> [200] RedeemValidatedCode -> GET /redeem/{a}/{c}/{m}"
    query = "GET /code/{a}/{o} -> [200] QueryIssuedUser -> GET /distributor/{a}/query/x/{p}"
    failure = b'{"data": null, "errors": [{"code": 201}], "result": "failure"}'
    success = b'{"data": {"code": "AB12E3GH"}, "errors": [], "result": "success"}'
    business, optional, wrong = link_notes(
        [
            _Failure(redeem, "valKey", "$response.body#/data/val_key", failure),
            _Failure(query, "userId", "$request.query.uid", success),
            _Failure(redeem, "valKey", "$response.body#/data/val_key", success),
        ]
    )
    assert business.expected and business.why == "error 201"
    assert business.name == "RedeemValidatedCode (validate -> redeem)"
    assert optional.expected and optional.why == "the request sent no uid"
    assert not wrong.expected and wrong.why == "a successful answer without that field"


def test_on_a_terminal_each_phase_counts_its_operations(tmp_path: Path) -> None:
    app = create_app(MockConfig(db_url=f"sqlite:///{tmp_path / 'state.db'}"))
    with serve_in_thread(app, health_path="/__admin/health") as served:
        controller, terminal = pty.openpty()
        process = subprocess.Popen(
            [sys.executable, "-m", "uniqodo_mock", "contract", "--url", served.url,
             "--max-examples", "1", "--seed", "3"],
            stdout=terminal,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **{k: "" for k in _CLEAN_ENV}, "PYTHONWARNINGS": "ignore"},
        )  # fmt: skip
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal closed: the command ended
                break
            if not chunk:
                break
            shown += chunk
        os.close(controller)
        assert process.wait(60) == 0, shown.decode(errors="replace")
    text = shown.decode()
    total = _operation_count()
    # The counter moves in place (carriage return, erase line) while a phase runs ...
    assert f"\r\x1b[2K  coverage   1/{total} operations" in text
    assert f"\r\x1b[2K  coverage   {total - 1}/{total} operations" in text
    # ... and each phase ends in one line with its outcome.
    assert re.search(rf"\r\x1b\[2K  fuzzing    {total}/{total} operations +ok\r?\n", text), text


def _operation_count() -> int:
    """The operations of the vendor spec (each method of each path)."""
    methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    paths = load_spec("uniqodo.yaml")["paths"]
    return sum(1 for item in paths.values() for name in item if name in methods)


def test_a_spec_that_cannot_be_loaded_is_one_line(tmp_path: Path) -> None:
    not_a_spec = tmp_path / "notes.md"
    not_a_spec.write_text("# Notes\n\nNot an OpenAPI document.\n")
    app = create_app(MockConfig(db_url=f"sqlite:///{tmp_path / 'state.db'}"))
    with serve_in_thread(app, health_path="/__admin/health") as served:
        result = CliRunner(env=_CLEAN_ENV).invoke(
            cli, ["contract", "--url", served.url, "--spec", str(not_a_spec)]
        )
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"Error: contract: cannot load {not_a_spec} as an OpenAPI document: ")
    assert "Traceback" not in result.output and "uqm-contract-" not in result.output
