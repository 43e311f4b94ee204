"""How one callback delivery goes over the wire: form POST, GET with a query string, or a JSON
POST (simulator extra), with the subscription's static headers and the delivery's id. A JSON
payload is sent as it is: the chosen items, or the subscription's body template as the
redemption rendered it (``core.callbacks.render_template``), so every retry sends the same."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx

from uniqodo_mock.version import __version__

__all__ = ["DELIVERY_ID_HEADER", "USER_AGENT", "build_request"]

DELIVERY_ID_HEADER = "X-Uniqodo-Delivery-Id"
USER_AGENT = f"uniqodo-mock-callbacks/{__version__}"


def _with_query(url: str, payload: dict[str, Any]) -> str:
    # Keep the URL's own query (a subscriber's token, say) and append the callback items.
    parts = urlsplit(url)
    extra = urlencode(list(payload.items()))
    query = f"{parts.query}&{extra}" if parts.query and extra else (parts.query or extra)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def build_request(
    client: httpx.AsyncClient,
    *,
    url: str,
    method: str,
    payload: dict[str, Any],
    headers: dict[str, str],
    delivery_id: str,
    attempt: int,
) -> httpx.Request:
    sent = {
        **headers,
        "User-Agent": USER_AGENT,
        DELIVERY_ID_HEADER: delivery_id,
        "X-Uniqodo-Delivery-Attempt": str(attempt),
    }
    if method == "GET":
        return client.build_request("GET", _with_query(url, payload), headers=sent)
    if method == "JSON":
        sent["Content-Type"] = "application/json"
        return client.build_request("POST", url, json=payload, headers=sent)
    sent["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
    body = urlencode(list(payload.items())).encode()
    return client.build_request("POST", url, content=body, headers=sent)
