"""Path converters for every secret token, reference and date in a URL. Each matches only what
the app can ever produce, so anything else (a NUL byte, a slash, a thousand characters) is a
404 from the resolver and never reaches a query. Registered in ``BookingConfig.ready``; public
for other apps' URLs (``token``, ``reference``, ``isodate``)."""

from __future__ import annotations

from django.urls import register_converter


class TokenConverter:
    """Manage, survey and waiting-list tokens. Wider than ``secrets.token_urlsafe`` output so a
    mistyped link still reaches its page's own friendly "this link does not work"; never a NUL
    or other control character (PostgreSQL refuses those in text: a 500)."""

    regex = r"[^/\x00-\x1f\x7f]{1,200}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class ReferenceConverter(TokenConverter):
    """An appointment's readable reference (staff may type it in lower case)."""

    regex = r"[A-Za-z0-9]{1,12}"


class IsoDateConverter(TokenConverter):
    """A day as YYYY-MM-DD; the view still checks it is a real day in the window it serves."""

    regex = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"


def converters_register() -> None:
    register_converter(TokenConverter, "token")
    register_converter(ReferenceConverter, "reference")
    register_converter(IsoDateConverter, "isodate")
