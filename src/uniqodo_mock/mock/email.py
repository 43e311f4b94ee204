"""Email codes (``openapi/email.yaml``, ``/__email``): a code for an email address as a PNG, and
the snippet a mail template embeds. Issuing goes through ``MockService.embeddable_code`` (in a
database thread), so the same address gets the same code, and errors come in the vendor's
envelope."""

from __future__ import annotations

import io
from html import escape
from typing import Any
from urllib.parse import urlencode

from connexion import request
from starlette.responses import Response

from uniqodo_mock.core.codes import derived_reference
from uniqodo_mock.core.errors import VendorError
from uniqodo_mock.mock.dbcalls import DatabaseCalls
from uniqodo_mock.mock.envelope import envelope_response, error_entries, status_for
from uniqodo_mock.service import MockService

__all__ = ["EmailApi", "render_code_png"]


def render_code_png(code: str, caption: str) -> bytes:
    """A plain, readable voucher image: the caption over the code."""
    # Pillow is imported on the first image, not by every start of the server.
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=28)
    small = ImageFont.load_default(size=16)
    width = max(320, 40 + int(font.getlength(code)), 40 + int(small.getlength(caption)))
    image = Image.new("RGB", (width, 110), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((1, 1, width - 2, 108), outline="#333333", width=2)
    draw.text((20, 14), caption, fill="#555555", font=small)
    draw.text((20, 48), code, fill="black", font=font)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


class EmailApi:
    def __init__(self, service: MockService, calls: DatabaseCalls) -> None:
        self.service = service
        self.calls = calls

    async def _issue(self, promotion_uuid: str, email: str, key: str) -> dict[str, Any]:
        outcome = await self.calls.run(
            lambda: self.service.embeddable_code(key, promotion_uuid, None, email)
        )
        if outcome.errors:
            raise outcome.errors[0]
        data: dict[str, Any] = outcome.data
        return data

    def _failure(self, error: VendorError, promotion_uuid: str, email: str) -> Response:
        catalogue = self.service.catalogue
        reference = derived_reference(
            self.service.settings.seed, "email", promotion_uuid, email, error.key
        )
        return envelope_response(
            None,
            error_entries([error], catalogue, None, reference),
            status_for([error], catalogue),
        )

    async def code_png(self, promotion_uuid: str, email: str, key: str, **_: Any) -> Response:
        try:
            data = await self._issue(promotion_uuid, email, key)
        except VendorError as error:
            return self._failure(error, promotion_uuid, email)
        body = render_code_png(data["code"], "Your code")
        # The image is the customer's code: mail clients and proxies must not share it.
        return Response(body, media_type="image/png", headers={"Cache-Control": "private"})

    async def link(self, promotion_uuid: str, email: str, key: str, **_: Any) -> Response:
        try:
            data = await self._issue(promotion_uuid, email, key)
        except VendorError as error:
            return self._failure(error, promotion_uuid, email)
        base = str(request.base_url).rstrip("/")
        image_url = (
            f"{base}/__email/{promotion_uuid}/code.png?{urlencode({'email': email, 'key': key})}"
        )
        landing = data.get("url") or ""
        html = (
            f'<a href="{escape(landing)}"><img src="{escape(image_url)}" '
            f'alt="Your code: {escape(data["code"])}"></a>'
        )
        return envelope_response(
            {"code": data["code"], "image_url": image_url, "landing_url": landing, "html": html},
            [],
            200,
        )
