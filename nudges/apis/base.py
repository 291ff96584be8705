"""The permission checks and the one mapping from nudge errors to HTTP (400 per field,
404/409/429 with ``detail`` and ``code``). Integration clients are booking's
(``booking.apis.auth``), with the ``nudges`` scope."""

from __future__ import annotations

from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from booking.apis.auth import HasIntegrationScope, IntegrationClientAuthentication
from nudges.constants import SCOPE_NUDGES
from nudges.exceptions import NudgeError
from nudges.permissions import MANAGE_EXPERIMENTS


class CanManageExperiments(permissions.BasePermission):
    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm(MANAGE_EXPERIMENTS))


class NudgeErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


class NudgeApiView(APIView):
    def handle_exception(self, exc):
        if isinstance(exc, NudgeError):
            if exc.http_status == 400:
                return Response({exc.field or "non_field_errors": [str(exc.message)]}, status=400)
            return Response({"detail": str(exc.message), "code": exc.code}, status=exc.http_status)
        return super().handle_exception(exc)


class IntegrationApiView(NudgeApiView):
    """For integration clients (``booking.IntegrationClient``) holding the ``nudges`` scope."""

    authentication_classes = [IntegrationClientAuthentication]
    permission_classes = [HasIntegrationScope]
    integration_scope = SCOPE_NUDGES
