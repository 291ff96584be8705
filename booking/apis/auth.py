"""Authentication of integration clients for any app's API views.

``Authorization: Bearer <token>`` of an active ``booking.IntegrationClient``: ``request.auth`` is
the client, ``request.user`` stays anonymous. A view states the scope it needs
(``integration_scope = "appointments"``) and uses ``HasIntegrationScope``;
``IntegrationClientThrottle`` limits requests per client (``API_THROTTLE_INTEGRATION``, or the
client's own ``requests_per_minute``).
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling

from booking.integrations import integration_client_authenticate
from booking.models import IntegrationClient


class IntegrationClientAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header.")
        client = integration_client_authenticate(header[1].decode(errors="ignore"))
        if client is None:
            raise exceptions.AuthenticationFailed("Invalid or inactive token.")
        return AnonymousUser(), client

    def authenticate_header(self, request):
        # Makes DRF answer 401 (not 403) without credentials.
        return f'{self.keyword} realm="api"'


class IntegrationClientScheme(OpenApiAuthenticationExtension):
    target_class = "booking.apis.auth.IntegrationClientAuthentication"
    name = "integrationClient"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Token of a booking.IntegrationClient (manage.py integration_client).",
        }


class HasIntegrationScope(permissions.BasePermission):
    """The request comes from an integration client holding the view's ``integration_scope``."""

    message = "This client may not use this API (missing scope)."

    def has_permission(self, request, view):
        client = request.auth
        scope = getattr(view, "integration_scope", None)
        if not isinstance(client, IntegrationClient) or not scope:
            return False
        return client.has_scope(scope)


class SignedInUserRateThrottle(throttling.UserRateThrottle):
    """Per signed-in user. DRF's ``UserRateThrottle`` also counts anonymous requests, by address:
    the same count ``AnonRateThrottle`` keeps, under a looser limit that never binds first, at
    two cache round trips on every public request (a quarter of an availability miss's cache
    traffic, issue 14). Anonymous requests are the anonymous throttle's alone."""

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None
        return super().get_cache_key(request, view)


class IntegrationClientThrottle(throttling.SimpleRateThrottle):
    """Requests per minute per client (not per address: one platform, many citizens)."""

    scope = "integration"

    def allow_request(self, request, view):
        client = request.auth
        if isinstance(client, IntegrationClient) and client.requests_per_minute:
            self.rate = f"{client.requests_per_minute}/minute"
            self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        client = request.auth
        if not isinstance(client, IntegrationClient):
            return None
        return self.cache_format % {"scope": self.scope, "ident": client.pk}
