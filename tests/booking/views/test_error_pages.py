"""403, 404 and 500 pages as production shows them (DEBUG off): the municipality's look, Dutch
or English, no technical details."""

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.urls import path
from django.views.defaults import permission_denied

from config.urls import urlpatterns as project_urlpatterns


def _boom(request):
    raise RuntimeError("secret internals")


def _forbidden(request):
    raise PermissionDenied("secret reason")


# This module is the URLconf of the tests below: the project's URLs plus two that fail.
urlpatterns = [*project_urlpatterns, path("test-boem/", _boom), path("test-verboden/", _forbidden)]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture(autouse=True)
def _production_like(settings):
    settings.DEBUG = False


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def assert_municipal_page(response, status, heading):
    html = response.content.decode()
    assert response.status_code == status
    assert f"<h1>{heading}</h1>" in html
    assert "Gemeente Voorbeeldstad" in html or "Municipality" in html
    assert 'class="site-header"' in html
    for leak in ("Traceback", "secret", "Django"):
        assert leak not in html


def test_an_unknown_page_shows_the_municipal_404(client):
    assert_municipal_page(client.get("/bestaat-niet/"), 404, "Pagina niet gevonden")


def test_the_404_in_english(client):
    assert_municipal_page(english(client).get("/bestaat-niet/"), 404, "Page not found")


def test_permission_denied_shows_the_municipal_403(client):
    assert_municipal_page(client.get("/test-verboden/"), 403, "Geen toegang")
    assert_municipal_page(english(client).get("/test-verboden/"), 403, "No access")


def test_an_error_shows_the_municipal_500_without_details(client):
    client.raise_request_exception = False

    assert_municipal_page(client.get("/test-boem/"), 500, "Er ging iets mis")
    assert_municipal_page(english(client).get("/test-boem/"), 500, "Something went wrong")


def test_the_403_view_renders_without_the_exception_text():
    request = RequestFactory().get("/")
    response = permission_denied(request, PermissionDenied("secret reason"))
    assert response.status_code == 403
    assert "secret" not in response.content.decode()
