"""Personalised code uploads and CSV batches: the admin endpoints and the CLI over a live mock."""

from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner
from tests.features_helpers import DIST, MERCHANT, features_app, running_features_mock

from uniqodo_mock.cli import _register, cli


@pytest.fixture
def client(db_url):
    with features_app(db_url).test_client() as c:
        yield c


def upload(client, offer: int, body: bytes):
    return client.post(
        f"/__admin/offers/{offer}/codes", content=body, headers={"Content-Type": "text/csv"}
    )


def test_upload_with_bom_and_header_makes_codes_usable(client):
    body = (
        "\ufeffcode,issued_to,expires_at\nVIP-ANN,ann@example.com,31-12-2098 23:59:59\nPOOL-Ü1,,\n"
    )
    response = upload(client, 7004, body.encode("utf-8"))
    assert response.status_code == 200
    assert response.json() == {"data": {"imported": 2}, "errors": [], "result": "success"}
    # Ann's personalised code is hers at the Code API; the pool code goes to the next customer.
    assert client.get(f"/code/{DIST}/7004?uid=ann@example.com").json()["data"]["code"] == "VIP-ANN"
    assert client.get(f"/code/{DIST}/7004?uid=bob@example.com").json()["data"]["code"] == "POOL-Ü1"
    ok = client.get(f"/validate/{MERCHANT}/vip-ann/1").json()
    assert ok["result"] == "success" and ok["data"]["code"] == "PERSONAL"


def test_bad_upload_lists_every_line_and_imports_nothing(client):
    assert upload(client, 7004, b"KEEP-1\n").status_code == 200
    body = b"NEW-1\nNEW-2,,not-a-date\nNEW-1\nKEEP-1\n,x\nA,B,C,D\n"
    response = upload(client, 7004, body)
    assert response.status_code == 400
    payload = response.json()
    assert payload["result"] == "failure" and payload["data"] is None
    messages = [e["message"] for e in payload["errors"]]
    assert messages == [
        "line 2: expires_at 'not-a-date' is not DD-MM-YYYY HH:MM:SS",
        "line 3: duplicate code 'NEW-1' (first on line 1)",
        "line 4: code 'KEEP-1' already exists in this offer",
        "line 5: empty code",
        "line 6: 4 columns; expected code[,issued_to][,expires_at]",
    ]
    # Nothing half-imported: NEW-1 (a good line) is unknown; KEEP-1 is still there.
    assert client.get(f"/validate/{MERCHANT}/NEW-1/1").json()["errors"][0]["code"] == 204
    assert client.get(f"/code/{DIST}/7004?uid=c").json()["data"]["code"] == "KEEP-1"


def test_upload_not_utf8_is_rejected(client):
    response = upload(client, 7004, "CAFÉ\n".encode("latin-1"))
    assert response.status_code == 400
    assert "not UTF-8" in response.json()["errors"][0]["message"]


def test_batch_download_marks_codes_issued(client):
    before = client.get(f"/offers/{DIST}/json").json()["data"]["offers"]
    remaining = next(o for o in before if o["id"] == 7005)["code_remaining"]
    response = client.post("/__admin/offers/7005/codes/batch?count=25")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 25 and len({r["code"] for r in rows}) == 25
    assert all(r["offer_id"] == "7005" and len(r["code"]) == 10 for r in rows)
    after = client.get(f"/offers/{DIST}/json").json()["data"]["offers"]
    assert next(o for o in after if o["id"] == 7005)["code_remaining"] == remaining - 25
    # A batch code works at the basket.
    assert client.get(f"/validate/{MERCHANT}/{rows[0]['code']}/1").json()["result"] == "success"


def test_batch_larger_than_the_pool_is_206_and_takes_nothing(client):
    response = client.post("/__admin/offers/7013/codes/batch?count=2")
    assert response.json()["errors"][0]["code"] == 206
    assert client.post("/__admin/offers/7013/codes/batch?count=1").status_code == 200


def test_cli_import_and_export_against_a_live_mock(tmp_path):
    _register()
    good = tmp_path / "codes.csv"
    good.write_text("code,issued_to\nCLI-1,cli@example.com\nCLI-2,\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("X-1\nX-1\n", encoding="utf-8")
    runner = CliRunner()
    with running_features_mock(f"sqlite:///{tmp_path / 'mock.db'}") as (url, _app):
        result = runner.invoke(cli, ["codes", "import", "--url", url, "--offer", "7004", str(good)])
        assert result.exit_code == 0, result.output
        assert "imported 2 codes into offer 7004" in result.output
        result = runner.invoke(cli, ["codes", "import", "--url", url, "--offer", "7004", str(bad)])
        assert result.exit_code == 1
        assert "line 2: duplicate code 'X-1' (first on line 1)" in result.output
        result = runner.invoke(
            cli, ["codes", "export", "--url", url, "--offer", "7005", "--count", "3"]
        )
        assert result.exit_code == 0, result.output
        lines = result.output.strip().splitlines()
        assert lines[0] == "code,offer_id" and len(lines) == 4
