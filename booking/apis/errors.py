"""One mapping from domain errors to HTTP, used by every API view (REST_FRAMEWORK setting).

400: ``{"field": ["message"]}`` per field, as DRF does for serializer errors.
404 / 409: ``{"detail": "...", "code": "..."}``; a 409 for a taken time adds ``alternatives``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from booking.exceptions import BookingError, SlotUnavailable


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    location = serializers.IntegerField(source="location_id")


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


class ConflictSerializer(ErrorSerializer):
    alternatives = SlotSerializer(many=True)


def booking_error_response(exc: BookingError) -> Response:
    if exc.http_status == status.HTTP_400_BAD_REQUEST:
        return Response({exc.field or "non_field_errors": [str(exc.message)]}, status=exc.http_status)
    body: dict[str, Any] = {"detail": str(exc.message), "code": exc.code}
    if isinstance(exc, SlotUnavailable):
        body["alternatives"] = SlotSerializer(exc.alternatives, many=True).data
    return Response(body, status=exc.http_status)


def exception_handler(exc, context):
    if isinstance(exc, BookingError):
        return booking_error_response(exc)
    if isinstance(exc, DjangoValidationError):
        return Response({"non_field_errors": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
