"""A partner's run of the plugin, as an outside project gets it: every fixture documented in
``pytest --fixtures``, and no warning from a third-party library (connexion, starlette,
jsonschema) in the run, even with warnings turned into errors."""

from __future__ import annotations

import pytest

KEY = "64a287ae534cf1bd58f45f3e23de9d433caec669"

pytest_plugins = ["pytester"]

PARTNER_SUITE = f"""
import httpx

def test_redeem_and_callback(uniqodo_mock, callback_receiver):
    valid = httpx.get(uniqodo_mock.url + "/validate/{KEY}/AB12E3GH/1").json()
    assert valid["result"] == "success"
    redeem = "/redeem/{KEY}/AB12E3GH/1?orderId=W-1&orderValue=20"
    assert httpx.get(uniqodo_mock.url + redeem).json()["result"] == "success"
    assert callback_receiver.wait_for(timeout=20, code="AB12E3GH")["method"] == "POST"

def test_controls(uniqodo_mock):
    uniqodo_mock.clock.freeze("2100-01-01T00:00:00Z")
    uniqodo_mock.faults.add(path="/redeem/", status=503)
    assert httpx.get(uniqodo_mock.url + "/redeem/{KEY}/AB12E3GH/1?orderId=W-2&orderValue=1").status_code == 503
    saved = uniqodo_mock.snapshot()
    uniqodo_mock.restore(saved)
    assert uniqodo_mock.journal.list()
"""


def test_every_plugin_fixture_has_a_docstring(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")
    result = pytester.runpytest_subprocess("--fixtures", "-v", "-p", "no:cacheprovider")
    text = result.stdout.str()
    section = text.split("fixtures defined from uniqodo_mock.pytest_plugin", 1)[1]
    section = section.split("\n---", 1)[0].split("\n===", 1)[0]
    for name in (
        "uniqodo_mock",
        "callback_receiver",
        "_uniqodo_mock_server",
        "_uniqodo_mock_controls",
        "_uniqodo_receiver_server",
    ):
        assert f"\n{name} " in section, name
    assert "no docstring available" not in section


def test_a_partner_run_shows_no_third_party_warning(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_partner=PARTNER_SUITE)
    # Every warning an error, in the tests and in the servers' threads alike.
    result = pytester.runpytest_subprocess("-W", "error", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    # And with the default filters: no warnings summary at all.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    assert "warnings summary" not in result.stdout.str()
    assert "Warning" not in result.stdout.str()
