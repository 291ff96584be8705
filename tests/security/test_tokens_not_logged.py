"""Secret tokens never reach a log line, and mail scanners' HEAD requests are not errors
(issue 11, item 7)."""

import logging
from types import SimpleNamespace

import pytest

from config.logs import GunicornLogger, redact
from tests.security.test_bad_input_walk import all_paths

TOKEN = "Zq3xY_secretToken-0123456789abcdefgh"


@pytest.mark.parametrize(
    "path",
    [
        f"/afspraak/{TOKEN}/",
        f"/afspraak/{TOKEN}/annuleren/",
        f"/api/v1/appointments/{TOKEN}/cancel/",
        f"/tevredenheid/{TOKEN}/",
        f"/wachtlijst/{TOKEN}/afmelden/",
        f"/wachtlijst/eerder/{TOKEN}/",
        f"/wachtlijst/aanbod/{TOKEN}/",
    ],
)
def test_redact_hides_the_token_of_every_tokenised_route(path):
    assert TOKEN not in redact(f'"GET {path} HTTP/1.1" 404 179')
    assert "[token]" in redact(path)


def test_redact_leaves_other_paths_alone():
    for path in ("/afspraak-maken/tijd/", "/medewerkers/afspraken/ABCD2345/", "/producten/geboorteaangifte/"):
        assert redact(path) == path


def test_a_404_on_a_manage_link_is_logged_without_the_token(client, db, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.post(f"/afspraak/{TOKEN}/annuleren/")
    assert response.status_code == 404
    assert caplog.records, "Django logs the 404"
    assert all(TOKEN not in record.getMessage() for record in caplog.records)
    assert any("[token]" in record.getMessage() for record in caplog.records)


def test_the_gunicorn_access_log_hides_tokens():
    logger = GunicornLogger(SimpleNamespace(**_gunicorn_cfg()))
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/afspraak/{TOKEN}/",
        "PATH_INFO": f"/afspraak/{TOKEN}/",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.1",
        "HTTP_REFERER": f"https://gemeente.example/afspraak/{TOKEN}/verzetten/",
    }
    response = SimpleNamespace(status="404 Not Found", sent=10, headers=[])
    atoms = logger.atoms(response, SimpleNamespace(headers=[]), environ, _Duration())
    assert all(TOKEN not in str(value) for value in atoms.values() if value is not environ)
    assert atoms["r"] == "GET /afspraak/[token]/ HTTP/1.1"


def test_head_is_answered_wherever_get_is(client, db):
    """Mail scanners send HEAD to links; a 405 would be a log line with the token in it."""
    refused = [
        path for path in all_paths() if client.head(path).status_code == 405 and client.get(path).status_code != 405
    ]
    assert refused == []


class _Duration:
    seconds = 0
    microseconds = 1000


def _gunicorn_cfg() -> dict:
    from gunicorn.config import Config

    config = Config()
    return {name: setting.get() for name, setting in config.settings.items()}
