"""The clock is shared by every process (workers, replicas) on one database."""

from __future__ import annotations

from uniqodo_mock.mock.runtime import MockConfig
from uniqodo_mock.testing import wait_until
from uniqodo_mock.testing.mock import MERCHANT_KEY, running_mock


def test_two_mocks_on_one_database_share_the_clock(db_url: str) -> None:
    with (
        running_mock(MockConfig(db_url=db_url)) as first,
        running_mock(MockConfig(db_url=db_url)) as second,
    ):
        first.admin.clock.freeze("2100-01-01T00:00:00Z")
        validate = f"/validate/{MERCHANT_KEY}/AB12E3GH/1"
        # The other process adopts the change within its refresh interval: wait on it.
        wait_until(
            lambda: second.get(validate).json()["result"] == "failure",
            what="the second mock to see the frozen clock",
        )
        assert second.get(validate).json()["errors"][0]["code"] == 303
        assert second.admin.clock.show()["frozen_at"].startswith("2100-01-01T00:00:00")

        second.admin.clock.real()
        assert first.admin.clock.show()["real"] is True
