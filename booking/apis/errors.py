"""The one mapping from errors to HTTP, used by every API view of every app (the
REST_FRAMEWORK ``EXCEPTION_HANDLER`` setting), and the one error body the schema documents.

Every error answer is a JSON object with ``detail`` (a translated message) and ``code``:

- 400 ``invalid`` (or a domain error's own code) adds the messages per input field, as DRF
  does for serializer errors: ``{"detail": "...", "code": "invalid", "email": ["..."]}``;
- 401/403 ``not_authenticated``/``authentication_failed``/``permission_denied``;
- 404 ``not_found``; 409 a domain code, adding ``alternatives`` for a taken time;
- 429 ``throttled`` (with a ``Retry-After`` header).

Public: ``exception_handler``, ``ERROR_STATUSES``, ``error_schema_postprocess`` (the schema hook).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from booking.exceptions import DomainError, SlotUnavailable

ERROR_STATUSES = (400, 401, 403, 404, 409, 429)
INVALID_MESSAGE = _("De invoer is niet geldig.")


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    location = serializers.IntegerField(source="location_id")


def _field_errors(exc: DomainError) -> dict:
    return {exc.field or "non_field_errors": [str(exc.message)]}


def domain_error_response(exc: DomainError) -> Response:
    body: dict[str, Any] = {"detail": str(exc.message), "code": exc.code}
    if exc.http_status == status.HTTP_400_BAD_REQUEST:
        body.update(_field_errors(exc))
    if isinstance(exc, SlotUnavailable):
        body["alternatives"] = SlotSerializer(exc.alternatives, many=True).data
    return Response(body, status=exc.http_status)


def _validation_body(detail) -> dict:
    fields = (
        detail if isinstance(detail, dict) else {"non_field_errors": detail if isinstance(detail, list) else [detail]}
    )
    return {"detail": str(INVALID_MESSAGE), "code": "invalid", **fields}


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        return domain_error_response(exc)
    if isinstance(exc, DjangoValidationError):
        return Response(_validation_body(exc.messages), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = _validation_body(response.data)
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        response.data = {"detail": str(exc.detail), "code": codes if isinstance(codes, str) else exc.default_code}
    return response


# --- the schema -----------------------------------------------------------------------------

ERROR_COMPONENT = "Error"
ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "Every error answer. A 400 adds the messages per input field (field name: list of messages, "
        "or an object of them for list and nested inputs); a 409 for a taken time adds `alternatives`."
    ),
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "alternatives": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "start": {"type": "string", "format": "date-time"},
                    "end": {"type": "string", "format": "date-time"},
                    "location": {"type": "integer"},
                },
                "required": ["start", "end", "location"],
            },
        },
    },
    "required": ["detail", "code"],
    "additionalProperties": True,
}
ERROR_DESCRIPTIONS = {
    400: "Invalid input: messages per field.",
    401: "No or invalid credentials.",
    403: "Not allowed for these credentials.",
    404: "Not found (or a link that is not valid).",
    409: "Conflicts with the current state (a taken time, a limit, a state transition).",
    429: "Too many requests from this client; see Retry-After.",
}


def error_schema_postprocess(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation documents every error answer with
    the one ``Error`` body (views declare only their success answers)."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    reference = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for code in ERROR_STATUSES:
                responses[str(code)] = {
                    "description": ERROR_DESCRIPTIONS[code],
                    "content": {"application/json": {"schema": reference}},
                }
    return result
