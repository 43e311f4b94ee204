"""How-to (QA): export the filtered calls for a bug report, as JSON or CSV.

Shell: ``uniqodo-mock calls export --format csv --path /partner/hook -o calls.csv``.
Page: the "Export JSON" / "Export CSV" links export what the filters show.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import httpx

from uniqodo_mock.receiver.settings import ReceiverSettings
from uniqodo_mock.testing.receiver import running_receiver


def test_howto_export_calls(tmp_path: Path) -> None:
    settings = ReceiverSettings(db_url=f"sqlite:///{tmp_path / 'calls.db'}")
    with running_receiver(settings) as receiver, receiver.client() as calls:
        for order in ("1001", "1002"):
            httpx.post(f"{receiver.url}/partner/hook", data={"code": "AB12E3GH", "orderId": order})
        httpx.post(f"{receiver.url}/elsewhere", content=b"noise")

        exported = json.loads(calls.export("json", path="/partner/hook"))
        assert [c["params"][1]["value"] for c in exported] == ["1001", "1002"]

        rows = list(csv.DictReader(io.StringIO(calls.export("csv", path="/partner/hook").decode())))
        assert [row["body_text"] for row in rows] == [
            "code=AB12E3GH&orderId=1001",
            "code=AB12E3GH&orderId=1002",
        ]
        assert rows[0]["conforms"] == "true"
