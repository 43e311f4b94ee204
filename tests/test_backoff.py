"""The retry policy of callback delivery (pure)."""

from __future__ import annotations

import pytest

from uniqodo_mock.core.backoff import BackoffPolicy


def test_delay_doubles_from_base_up_to_the_cap_without_jitter() -> None:
    policy = BackoffPolicy(base=0.5, cap=4.0, max_attempts=10, jitter=0.0)
    assert [policy.delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_jitter_spreads_within_its_fraction_and_never_beyond_the_cap() -> None:
    policy = BackoffPolicy(base=1.0, cap=3.0, jitter=0.2)
    assert policy.delay(1, 0.0) == pytest.approx(0.8)
    assert policy.delay(1, 0.999999) == pytest.approx(1.2, abs=1e-5)
    assert policy.delay(5, 0.999999) == 3.0


def test_gives_up_after_max_attempts() -> None:
    policy = BackoffPolicy(max_attempts=3)
    assert [policy.gives_up_after(n) for n in (1, 2, 3)] == [False, False, True]


@pytest.mark.parametrize(
    "kwargs", [{"base": -1}, {"cap": -1}, {"max_attempts": 0}, {"jitter": 1.5}]
)
def test_nonsense_settings_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        BackoffPolicy(**kwargs)
