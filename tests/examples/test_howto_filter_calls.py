"""How-to (QA): find calls by method, path, time and parameter value.

Shell: ``uniqodo-mock calls list --method POST --path '/partner/*' --param code:AB12E3GH``.
Page: ``http://127.0.0.1:8090/__receiver/?param=code:AB12E3GH`` (filters live in the URL).
"""

from __future__ import annotations

from pathlib import Path

import httpx

from uniqodo_mock.receiver.settings import ReceiverSettings
from uniqodo_mock.testing.receiver import running_receiver


def test_howto_filter_recorded_calls(tmp_path: Path) -> None:
    settings = ReceiverSettings(db_url=f"sqlite:///{tmp_path / 'calls.db'}")
    with running_receiver(settings) as receiver, receiver.client() as calls:
        start = calls.list()  # nothing yet
        assert start["calls"] == []
        httpx.post(f"{receiver.url}/partner/a", data={"code": "AB12E3GH", "orderValue": "10"})
        httpx.get(f"{receiver.url}/partner/b", params={"code": "AB12E3GH"})
        httpx.post(f"{receiver.url}/partner/b", json={"code": "OTHER"})

        assert len(calls.list(param="code:AB12E3GH")["calls"]) == 2  # query or form field
        assert len(calls.list(param="code:OTHER")["calls"]) == 1  # a JSON body field
        assert len(calls.list(method="POST", path="/partner/*")["calls"]) == 2
        assert len(calls.list(param="orderValue")["calls"]) == 1  # field present at all
        assert calls.list(callback=True, conforms=False)["calls"] != []  # the JSON one
        first = calls.list()["calls"][0]
        assert len(calls.list(since=first["received_at"])["calls"]) == 3
