"""Authentication for integration clients and the permission checks. Errors (nudges' own
included) are mapped to HTTP once, for every app, by ``booking.apis.errors``."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework.views import APIView

from nudges.experiments import services
from nudges.models import IntegrationClient
from nudges.permissions import MANAGE_EXPERIMENTS


class IntegrationTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <token>``; the token belongs to an active IntegrationClient.
    ``request.auth`` is the client; ``request.user`` stays anonymous."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header.")
        client = services.integration_client_authenticate(header[1].decode(errors="ignore"))
        if client is None:
            raise exceptions.AuthenticationFailed("Invalid or inactive token.")
        return AnonymousUser(), client

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class IntegrationTokenScheme(OpenApiAuthenticationExtension):
    target_class = "nudges.apis.base.IntegrationTokenAuthentication"
    name = "integrationToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "Token of an IntegrationClient (nudges)."}


class IsIntegrationClient(permissions.BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, IntegrationClient)


class CanManageExperiments(permissions.BasePermission):
    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm(MANAGE_EXPERIMENTS))


class NudgeApiView(APIView):
    """Base of nudges' API views (errors go through the project's one exception handler)."""


class IntegrationApiView(NudgeApiView):
    authentication_classes = [IntegrationTokenAuthentication]
    permission_classes = [IsIntegrationClient]
