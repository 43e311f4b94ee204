"""``uniqodo-mock up`` as a user runs it: a subprocess, readiness read from its banner."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from uniqodo_mock.receiver.client import ReceiverClient
from uniqodo_mock.testing import wait_until

KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"


@contextmanager
def uniqodo_up(db: str, log: Path, *extra: str) -> Iterator[tuple[str, str]]:
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uniqodo_mock",
                "up",
                "--port",
                "0",
                "--receiver-port",
                "0",
                "--db",
                db,
                "--callback-backoff",
                "0.05",
                *extra,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
    try:

        def banner_or_exit() -> bool:
            assert process.poll() is None, log.read_text()
            return "Ctrl-C stops both" in log.read_text()

        wait_until(banner_or_exit, timeout=60, what="up to print its banner")
        banner = log.read_text()
        api = re.search(r"API:\s+(http://\S+)", banner).group(1)
        receiver = re.search(r"Receiver:\s+(http://[0-9.:]+)", banner).group(1)
        assert httpx.get(f"{api}/__admin/health").status_code == 200
        yield api, receiver
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0, log.read_text()


def test_up_delivers_the_docs_callback_to_its_receiver(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'state.db'}"
    with uniqodo_up(db, tmp_path / "up.log") as (api, receiver):
        banner = (tmp_path / "up.log").read_text()
        assert f"{api}/__admin/docs" in banner and f"{receiver}/__receiver/" in banner
        # The demo shop, linked from the banner, links the receiver's page for QA.
        assert f"{api}/__demo/shop/" in banner
        settings = httpx.get(f"{api}/__demo/shop/settings.json").json()
        assert settings == {"receiverPage": f"{receiver}/__receiver/"}
        answer = httpx.get(f"{api}/redeem/{KEY}/AB12E3GH/1", params={"orderId": "145789"})
        assert answer.json()["result"] == "success"
        with ReceiverClient(receiver) as calls:
            call = calls.wait(timeout=10, after=0, param="code:AB12E3GH")
        assert call["method"] == "POST" and call["path"] == "/callback"
        assert call["body_text"] == "code=AB12E3GH&orderId=145789"
    assert (tmp_path / "state-receiver.db").exists()  # the receiver's sibling database
    # Restarting on the same database keeps one `up` subscription (pointing at the new port).
    with uniqodo_up(db, tmp_path / "up2.log") as (api, receiver):
        subs = httpx.get(f"{api}/__admin/callbacks").json()["subscriptions"]
        assert [(s["origin"], s["url"]) for s in subs] == [("up", f"{receiver}/callback")]


def test_up_callback_body_sends_the_template_to_its_receiver(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'state.db'}"
    template = tmp_path / "template.json"
    template.write_text('{"voucher": "{code}", "order": {"id": "{orderId}"}, "source": "up"}')
    with uniqodo_up(db, tmp_path / "up.log", "--callback-body", f"@{template}") as (api, rcv):
        answer = httpx.get(f"{api}/redeem/{KEY}/AB12E3GH/1", params={"orderId": "145789"})
        assert answer.json()["result"] == "success"
        with ReceiverClient(rcv) as calls:
            call = calls.wait(timeout=10, after=0, path="/callback")
        assert call["content_type"] == "application/json"
        assert json.loads(call["body_text"]) == {
            "voucher": "AB12E3GH",
            "order": {"id": "145789"},
            "source": "up",
        }
    # Restarted without the option, the same subscription is the docs' form again.
    with uniqodo_up(db, tmp_path / "up2.log") as (api, rcv):
        [sub] = httpx.get(f"{api}/__admin/callbacks").json()["subscriptions"]
        assert (sub["origin"], sub["method"], sub["body"]) == ("up", "POST", None)
        assert sub["params"] == {"code": "code", "orderId": "orderId"}


def test_up_help_names_its_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "uniqodo_mock", "up", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for option in (
        "--port",
        "--receiver-port",
        "--db",
        "--receiver-db",
        "--callback-attempts",
        "--callback-body",
        "--admin-token",
    ):
        assert option in result.stdout


def test_up_refuses_bad_input_clearly_before_starting(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nmerchants:\n  - {id: x, name: Shop}\n")
    cases = [
        (["--db", "nonsense"], "--db"),
        (["--db", f"sqlite:///{tmp_path / 's.db'}", "--receiver-db", "nope"], "--receiver-db"),
        (["--db", f"sqlite:///{tmp_path / 's.db'}", "--fixtures", str(bad)], f"{bad}:3"),
        (["--callback-body", '{"a": "{voucher}"}'], "unknown placeholder {voucher}"),
        (["--callback-body", "{oops"], "--callback-body"),
        (["--callback-body", f"@{tmp_path / 'missing.json'}"], "cannot read"),
    ]
    for args, named in cases:
        result = subprocess.run(
            [sys.executable, "-m", "uniqodo_mock", "up", "--port", "0", "--receiver-port", "0",
             *args],
            capture_output=True,
            text=True,
            timeout=60,
        )  # fmt: skip
        assert result.returncode == 2, result.stderr
        assert named in result.stderr
        assert "Traceback" not in result.stderr


def test_up_admin_token_guards_both_admin_apis(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'state.db'}"
    log = tmp_path / "up.log"
    with uniqodo_up(db, log, "--host", "0.0.0.0", "--admin-token", "s3cret") as (api, receiver):
        banner = log.read_text()
        assert "without --admin-token" not in banner  # a token: no exposure warning
        assert "s3cret" not in banner  # the banner never shows the token
        assert "Admin token:" in banner
        bearer = {"Authorization": "Bearer s3cret"}
        assert httpx.get(f"{api}/__admin/callbacks").status_code == 401
        assert httpx.get(f"{api}/__admin/callbacks", headers=bearer).status_code == 200
        assert httpx.get(f"{api}/__admin/callbacks?token=s3cret").status_code == 200
        assert httpx.get(f"{receiver}/__receiver/calls").status_code == 401
        assert httpx.get(f"{receiver}/__receiver/health").status_code == 200
        # The vendor API and the callback itself stay open; the receiver API answers the token.
        answer = httpx.get(f"{api}/redeem/{KEY}/AB12E3GH/1", params={"orderId": "T-1"})
        assert answer.json()["result"] == "success"
        with ReceiverClient(receiver, token="s3cret") as calls:
            call = calls.wait(timeout=10, after=0, param="code:AB12E3GH")
        assert call["body_text"] == "code=AB12E3GH&orderId=T-1"


def test_up_warns_when_exposed_without_a_token(tmp_path: Path) -> None:
    # A bad --db makes it stop right after the option checks: the warning comes first.
    result = subprocess.run(
        [sys.executable, "-m", "uniqodo_mock", "up", "--host", "0.0.0.0", "--db", "nonsense"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "warning: binding to 0.0.0.0 without --admin-token" in result.stderr
