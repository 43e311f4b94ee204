"""The Reward API's answers (``POST /v2/claims``): its own shape, not v1's envelope.

A claim is answered 201 with the claim's JSON; every failure is ``{"message": "..."}``. What is
known (client): a missing or unknown ``UQD-ACCESS-KEY`` is 401 ``{"message": "Unauthorized"}``.
The other statuses and messages are the mock's choice (simulator), each configurable in the
fixtures' ``settings.reward_errors`` (``{key: {status, message}}`` by the error's symbolic
key); transport failures on these paths (a body that is not JSON or does not fit, a wrong
method, a fault rule) keep the shape with the HTTP status's own phrase.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, NamedTuple

import orjson

from uniqodo_mock.core.errors import VendorError

__all__ = [
    "REWARD_ERRORS",
    "REWARD_PATH_PREFIX",
    "RewardError",
    "is_reward_path",
    "reward_error",
    "reward_error_body",
    "reward_transport_message",
]

REWARD_PATH_PREFIX = "/v2/"


class RewardError(NamedTuple):
    """An error of the Reward API: its HTTP status and message."""

    status: int
    message: str


# The service's error keys → the Reward API's answer. 401 is the platform's (client); the rest
# are this simulator's choice.
REWARD_ERRORS: Mapping[str, RewardError] = {
    "unknown_api_key": RewardError(401, "Unauthorized"),
    "wrong_key_kind": RewardError(403, "Forbidden"),
    "offer_not_authorised": RewardError(403, "Forbidden"),
    "unknown_offer": RewardError(404, "Promotion not found"),
    "sold_out": RewardError(409, "Promotion sold out"),
    "promotion_not_started": RewardError(422, "Promotion not active"),
    "promotion_ended": RewardError(422, "Promotion not active"),
    "promotion_paused": RewardError(422, "Promotion not active"),
    "uid_required": RewardError(400, "Bad Request"),
    "invalid_parameter": RewardError(400, "Bad Request"),
}


# The phrases of the statuses these paths can answer, fixed here: Python's own change between
# versions (413's), and an answer must not.
_PHRASES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def is_reward_path(path: str) -> bool:
    return path.startswith(REWARD_PATH_PREFIX)


def reward_error(error: VendorError, overrides: Mapping[str, Mapping[str, Any]]) -> RewardError:
    """The answer to a service error: the fixtures' override of its key, else the default."""
    default = REWARD_ERRORS.get(error.key) or RewardError(400, "Bad Request")
    change = overrides.get(error.key) or {}
    return RewardError(
        int(change.get("status", default.status)), str(change.get("message", default.message))
    )


def reward_transport_message(
    status: int, detail: str | None, overrides: Mapping[str, Mapping[str, Any]]
) -> str:
    """The message of a failure no handler produced: 401 as the platform says it (or as the
    fixtures override ``unknown_api_key``), else the status's phrase and the detail."""
    if status == 401:
        return reward_error(VendorError("unknown_api_key", "no access key"), overrides).message
    phrase = _PHRASES.get(status)
    if phrase is None:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
    return f"{phrase}: {detail}" if detail else phrase


def reward_error_body(message: str) -> bytes:
    return orjson.dumps({"message": message})
