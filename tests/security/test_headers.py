"""Security headers (issue 11, item 8): a strict CSP, no framing, a Permissions-Policy, API
docs from our own files, no inline script or style attribute in any page template, and a
Server header that does not name the software."""

import re
from pathlib import Path

import pytest
from django.conf import settings

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def _directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


@pytest.mark.parametrize("path", ["/", "/afspraak-maken/", "/medewerkers/inloggen/", "/api/v1/products/"])
def test_every_answer_has_a_strict_policy(client, db, path):
    response = client.get(path)
    directives = _directives(response)
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["default-src"] == ["'none'"]
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]


@pytest.mark.parametrize("path", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_api_docs_load_only_our_own_scripts(client, db, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert sources and all(src.startswith("/") for src in sources), sources
    assert not re.search(r"<script(?![^>]*src=)[^>]*>", html), "an inline script"
    assert "https://" not in html
    assert _directives(response)["script-src"] == ["'self'"]


def test_the_swagger_start_script_is_served_as_a_file(client, db):
    response = client.get("/api/v1/docs/?script=")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")


def _page_templates():
    return [p for p in TEMPLATES.rglob("*.html") if "email" not in p.parts]


def test_no_page_template_has_an_inline_script_or_style_attribute():
    offenders = []
    for template in _page_templates():
        text = template.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\sstyle=\"", text):
            offenders.append(str(template.relative_to(TEMPLATES)))
        if re.search(r"\son[a-z]+=\"", text):
            offenders.append(str(template.relative_to(TEMPLATES)))
    assert offenders == []


def test_gunicorn_does_not_name_itself_in_the_server_header():
    import gunicorn.http.wsgi

    import config.gunicorn_conf

    response = gunicorn.http.wsgi.Response.__new__(gunicorn.http.wsgi.Response)
    response.__init__(type("Req", (), {"version": (1, 1), "method": "GET"})(), None, None)
    assert "gunicorn" not in response.version.lower()
    assert config.gunicorn_conf.logger_class == "config.logs.GunicornLogger"
