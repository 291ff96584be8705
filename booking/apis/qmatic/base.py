"""What every facade view shares: integration-client authentication with the ``appointments``
scope, the per-client throttle, JSON only, and the facade's own error body
``{"code", "message", "fields"?}`` (every error is JSON, never a 500 for bad input)."""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from booking.apis.auth import HasIntegrationScope, IntegrationClientAuthentication, IntegrationClientThrottle
from booking.exceptions import BookingError
from booking.integrations import SCOPE_APPOINTMENTS

TAG = "Qmatic (Open Formulieren)"


def _error(code: str, message: Any, http_status: int, fields: dict | None = None, headers=None) -> Response:
    body: dict[str, Any] = {"code": code, "message": str(message)}
    if fields:
        body["fields"] = fields
    return Response(body, status=http_status, headers=headers)


def _flatten(detail) -> dict[str, list[str]]:
    """DRF's nested validation errors as {"customers.0.email": ["…"]}."""
    flat: dict[str, list[str]] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item)
        elif isinstance(value, list) and value and not all(isinstance(v, str) for v in value):
            for index, item in enumerate(value):
                if item:
                    walk(f"{prefix}.{index}" if prefix else str(index), item)
        else:
            flat.setdefault(prefix or "non_field_errors", []).extend(
                [str(v) for v in value] if isinstance(value, list) else [str(value)]
            )

    walk("", detail)
    return flat


def qmatic_exception_handler(exc, context):
    if isinstance(exc, BookingError):
        fields = {exc.field: [str(exc.message)]} if exc.field and exc.http_status == 400 else None
        return _error(exc.code, exc.message, exc.http_status, fields)
    if isinstance(exc, exceptions.ValidationError):
        return _error("invalid", _("De invoer is niet geldig."), status.HTTP_400_BAD_REQUEST, _flatten(exc.detail))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
    response.data = {"code": code if isinstance(code, str) else "error", "message": str(detail)}
    return response


class QmaticApiView(APIView):
    authentication_classes = [IntegrationClientAuthentication]
    permission_classes = [HasIntegrationScope]
    throttle_classes = [IntegrationClientThrottle]
    renderer_classes = [JSONRenderer]
    integration_scope = SCOPE_APPOINTMENTS

    def get_exception_handler(self):
        return qmatic_exception_handler


def unknown_path(request, *args, **kwargs):
    """Anything under the prefix that is not one of the calls: a JSON 404, not an HTML page."""
    return JsonResponse(
        {"code": "not_found", "message": _("Onbekend pad in de Qmatic-koppeling.")}, status=status.HTTP_404_NOT_FOUND
    )
