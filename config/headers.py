"""Response headers Django has no setting for. The Content-Security-Policy comes from
django-csp (CONTENT_SECURITY_POLICY in the settings); this adds the Permissions-Policy: no
page of this app needs a camera, a microphone, a location or a payment sheet."""

from __future__ import annotations

from django.conf import settings


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.value = ", ".join(f"{feature}=()" for feature in settings.PERMISSIONS_POLICY_DENY)

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", self.value)
        return response
