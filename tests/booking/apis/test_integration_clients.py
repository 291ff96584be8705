"""Integration clients: tokens stored as hashes, scopes, the DRF authentication and permission."""

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from booking.apis.auth import HasIntegrationScope, IntegrationClientAuthentication
from booking.exceptions import InvalidRequest
from booking.integrations import integration_client_authenticate, integration_client_create, register_scope
from booking.models import IntegrationClient

pytestmark = pytest.mark.django_db


class ScopedView(APIView):
    authentication_classes = [IntegrationClientAuthentication]
    permission_classes = [HasIntegrationScope]
    integration_scope = "appointments"

    def get(self, request):
        return Response({"client": request.auth.name})


def call(token=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return ScopedView.as_view()(APIRequestFactory().get("/", **headers))


def test_only_the_hash_of_the_token_is_stored():
    client, token = integration_client_create(name="Open Formulieren", scopes=["appointments"])
    stored = IntegrationClient.objects.get(pk=client.pk)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(IntegrationClient.objects.filter(pk=client.pk).values().get())
    assert stored.send_confirmation_emails is True
    assert integration_client_authenticate(token) == client
    assert integration_client_authenticate(token + "x") is None


def test_unknown_scope_or_duplicate_name_is_refused():
    with pytest.raises(InvalidRequest) as exc:
        integration_client_create(name="X", scopes=["everything"])
    assert exc.value.field == "scopes"
    integration_client_create(name="X", scopes=["appointments"])
    with pytest.raises(InvalidRequest):
        integration_client_create(name="X", scopes=["appointments"])


def test_an_app_can_register_its_own_scope():
    register_scope("test-scope", "For this test")
    client, _token = integration_client_create(name="Y", scopes=["test-scope"])
    assert client.has_scope("test-scope") and not client.has_scope("appointments")


def test_the_view_needs_a_valid_active_token_with_its_scope():
    _client, token = integration_client_create(name="Forms", scopes=["appointments"])
    register_scope("other", "Other")
    _other, other_token = integration_client_create(name="Other", scopes=["other"])
    assert call(token).status_code == 200
    assert call(token).data == {"client": "Forms"}
    assert call().status_code == 401
    assert call("wrong").status_code == 401
    assert call(other_token).status_code == 403
    IntegrationClient.objects.filter(name="Forms").update(is_active=False)
    assert call(token).status_code == 401


def test_command_prints_the_token_once_and_creates_the_client():
    out = StringIO()
    call_command(
        "integration_client", "Open Formulieren", "--scope", "appointments", "--no-confirmation-emails", stdout=out
    )
    token = out.getvalue().strip().splitlines()[-1]
    client = integration_client_authenticate(token)
    assert client.name == "Open Formulieren"
    assert client.scopes == ["appointments"]
    assert client.send_confirmation_emails is False
    with pytest.raises(CommandError):
        call_command("integration_client", "Open Formulieren", "--scope", "appointments", stdout=StringIO())
