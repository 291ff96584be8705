"""The permission checks of nudges' API views. Integration clients are booking's
(``booking.apis.auth``), with the ``nudges`` scope. Errors (nudges' own included) are mapped to
HTTP once, for every app, by ``booking.apis.errors``."""

from __future__ import annotations

from rest_framework import permissions
from rest_framework.views import APIView

from booking.apis.auth import HasIntegrationScope, IntegrationClientAuthentication
from nudges.constants import SCOPE_NUDGES
from nudges.permissions import MANAGE_EXPERIMENTS


class CanManageExperiments(permissions.BasePermission):
    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm(MANAGE_EXPERIMENTS))


class NudgeApiView(APIView):
    """Base of nudges' API views (errors go through the project's one exception handler)."""


class IntegrationApiView(NudgeApiView):
    """For integration clients (``booking.IntegrationClient``) holding the ``nudges`` scope."""

    authentication_classes = [IntegrationClientAuthentication]
    permission_classes = [HasIntegrationScope]
    integration_scope = SCOPE_NUDGES
