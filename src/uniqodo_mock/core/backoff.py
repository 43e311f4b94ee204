"""When to try a failed callback delivery again: exponential backoff with jitter, capped, and a
limit on attempts after which the delivery is given up (``failed``). Pure: the caller passes the
random draw, so the policy is testable and deterministic."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BackoffPolicy"]


@dataclass(frozen=True)
class BackoffPolicy:
    """``base * 2**(attempt-1)`` seconds, at most ``cap``, spread by ``jitter`` (0.2 = ±20%) so
    that deliveries failing together do not retry in lock-step."""

    base: float = 0.5
    cap: float = 60.0
    max_attempts: int = 8
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if self.base < 0 or self.cap < 0:
            raise ValueError("backoff base and cap must not be negative")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter must be between 0 and 1")

    def gives_up_after(self, attempts: int) -> bool:
        """True once ``attempts`` attempts have failed and no more are allowed."""
        return attempts >= self.max_attempts

    def delay(self, attempts: int, draw: float = 0.5) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt; ``draw`` in [0, 1)."""
        raw = min(self.cap, self.base * 2 ** max(0, attempts - 1))
        spread = raw * self.jitter * (2 * draw - 1)
        return max(0.0, min(self.cap, raw + spread))
