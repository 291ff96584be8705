"""Secret tokens never reach a log line. Manage, survey and waiting-list links carry a secret
in their path; a 404 or 400 on such a path is logged by Django (``django.request``), the
development server logs every request (``django.server``) and gunicorn its access log.

``redact`` replaces every path segment that a ``<token:…>`` route captures with ``[token]``;
the routes are read from the URL resolver, so a new tokenised route is covered without a
list to keep up. ``RedactTokensFilter`` applies it to log records (see LOGGING);
``GunicornLogger`` to gunicorn's access log (``gunicorn --logger-class config.logs.GunicornLogger``).
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

from gunicorn.glogging import Logger as _GunicornLogger

TOKEN_CHARACTERS = r"[A-Za-z0-9_%-]{1,200}"  # noqa: S105 - a pattern, not a secret; wider than the converter: a bad token is still hidden
REDACTED = "[token]"


def _token_prefixes(patterns, prefix: str = "") -> list[str]:
    from django.urls import URLPattern, URLResolver

    found = []
    for entry in patterns:
        route = getattr(entry.pattern, "_route", None)
        if route is None:
            continue
        if isinstance(entry, URLResolver):
            found += _token_prefixes(entry.url_patterns, prefix + route)
        elif isinstance(entry, URLPattern) and "<token:" in route:
            before = (prefix + route).split("<token:")[0]
            found.append(re.sub(r"<\w+:\w+>|<\w+>", "\x00", before))
    return found


@lru_cache(maxsize=1)
def _token_path() -> re.Pattern:
    from django.urls import get_resolver

    prefixes = sorted(set(_token_prefixes(get_resolver().url_patterns)), key=len, reverse=True)
    parts = [re.escape(p).replace("\x00", "[^/]+") for p in prefixes]
    return re.compile(rf"(/(?:{'|'.join(parts)}))({TOKEN_CHARACTERS})")


def redact(text: str) -> str:
    try:
        pattern = _token_path()
    except Exception:
        pattern = re.compile(r"(/)([A-Za-z0-9_-]{16,})")
    return pattern.sub(lambda match: match.group(1) + REDACTED, text)


class RedactTokensFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


class GunicornLogger(_GunicornLogger):
    """Gunicorn's logger with every access-log value redacted (request line, path, referrer,
    headers and environ values alike), whatever ``--access-logformat`` picks."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}
