"""The API's JSON parser: a body nested deeper than any operation needs is a 400, not a
RecursionError (a 500) deep inside ``json.loads`` or a serializer."""

from __future__ import annotations

from django.utils.translation import gettext
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# The deepest body any operation takes is an object holding a list of strings (depth 2).
MAX_JSON_DEPTH = 20


def _too_deep(value, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(_too_deep_message()) from exc
        if _too_deep(data, MAX_JSON_DEPTH):
            raise ParseError(_too_deep_message())
        return data


def _too_deep_message() -> str:
    return gettext("De JSON is te diep genest (hoogstens %(depth)s niveaus).") % {"depth": MAX_JSON_DEPTH}
