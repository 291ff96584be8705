"""SMS: the HTTP gateway adapter against a real local gateway server, the development backends,
Dutch phone numbers, quiet hours across the daylight-saving changes and the reminder text."""

from __future__ import annotations

import json
import socket
import threading
import time as clock
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given
from hypothesis import strategies as st

from booking.ics import absolute_manage_url
from booking.phones import phone_normalise
from nudges.outbox import sms
from nudges.outbox.sms import (
    ConsoleBackend,
    SmsPermanentError,
    SmsTransientError,
    sms_enabled,
    sms_quiet_hours_shift,
    sms_render_reminder,
    sms_send,
)
from tests.factories import AppointmentFactory, DeskFactory, LocationFactory, ProductFactory

AMS = ZoneInfo("Europe/Amsterdam")
NUMBER = "+31612345678"
TEXT = "Herinnering: uw afspraak is morgen om 10:00."
REFERENCE = "scheduled-message-42"


# --- a real HTTP gateway on 127.0.0.1 -------------------------------------------------------


class FakeGateway:
    """What the gateway answers (status, JSON body, headers, a delay) and what it received."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.status = 200
        self.body: object = {"id": "gw-0001"}
        self.headers: dict[str, str] = {}
        self.delay = 0.0
        self.release = threading.Event()


class _GatewayHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        gateway: FakeGateway = self.server.gateway
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        gateway.received.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(raw)})
        if gateway.delay:
            gateway.release.wait(gateway.delay)
        body = gateway.body if isinstance(gateway.body, bytes) else json.dumps(gateway.body).encode()
        self.send_response(gateway.status)
        for name, value in gateway.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # The client gave up (timeout test) before the answer was written: expected.
        pass


@pytest.fixture
def gateway(settings, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    server = _Server(("127.0.0.1", 0), _GatewayHandler)
    server.gateway = FakeGateway()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    settings.NUDGES_SMS_BACKEND = "nudges.sms.HttpGatewayBackend"
    settings.NUDGES_SMS_GATEWAY_URL = f"http://127.0.0.1:{server.server_port}/v1/messages"
    settings.NUDGES_SMS_GATEWAY_TOKEN = "test-token-123"
    settings.NUDGES_SMS_GATEWAY_TIMEOUT_SECONDS = 5
    settings.NUDGES_SMS_SENDER = "Gemeente"
    yield server.gateway
    server.gateway.release.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_gateway_gets_json_bearer_token_and_reference_and_gives_provider_id(gateway):
    provider_id = sms_send(to="06-12345678", text=TEXT, reference=REFERENCE)

    assert provider_id == "gw-0001"
    [request] = gateway.received
    assert request["path"] == "/v1/messages"
    assert request["json"] == {"to": NUMBER, "from": "Gemeente", "text": TEXT, "reference": REFERENCE}
    assert request["headers"]["Authorization"] == "Bearer test-token-123"
    assert request["headers"]["Idempotency-Key"] == REFERENCE
    assert request["headers"]["Content-Type"] == "application/json"


def test_gateway_numeric_id_is_returned_as_text(gateway):
    gateway.body = {"id": 987654}
    assert sms_send(to=NUMBER, text=TEXT, reference=REFERENCE) == "987654"


@pytest.mark.parametrize("body", [{"status": "queued"}, b"OK", {"id": ""}])
def test_gateway_accepting_without_id_counts_as_sent_under_the_reference(gateway, body):
    """Accepted is accepted: raising here would make the outbox send it again."""
    gateway.status, gateway.body = 202, body
    assert sms_send(to=NUMBER, text=TEXT, reference=REFERENCE) == REFERENCE


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429, 408])
def test_gateway_server_errors_and_throttling_are_transient(gateway, status):
    gateway.status, gateway.body = status, {"error": "try later"}
    with pytest.raises(SmsTransientError) as excinfo:
        sms_send(to=NUMBER, text=TEXT, reference=REFERENCE)
    assert excinfo.value.code == f"HTTP {status}"
    assert len(gateway.received) == 1


def test_gateway_retry_after_is_passed_on(gateway):
    gateway.status, gateway.headers = 429, {"Retry-After": "30"}
    with pytest.raises(SmsTransientError) as excinfo:
        sms_send(to=NUMBER, text=TEXT, reference=REFERENCE)
    assert excinfo.value.retry_after == 30


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_gateway_client_errors_are_permanent(gateway, status):
    gateway.status = status
    # A gateway's error text may quote the number: it never reaches our error.
    gateway.body = {"error": f"number {NUMBER} rejected"}
    with pytest.raises(SmsPermanentError) as excinfo:
        sms_send(to=NUMBER, text=TEXT, reference=REFERENCE)
    assert excinfo.value.code == f"HTTP {status}"
    assert NUMBER not in str(excinfo.value)


def test_gateway_redirect_is_not_followed(gateway):
    """Following it would post the token and the number to an address nobody configured."""
    gateway.status, gateway.headers = 302, {"Location": "http://127.0.0.1:9/elsewhere"}
    with pytest.raises(SmsPermanentError):
        sms_send(to=NUMBER, text=TEXT, reference=REFERENCE)
    assert len(gateway.received) == 1


def test_gateway_not_answering_within_the_timeout_is_transient(gateway, settings):
    settings.NUDGES_SMS_GATEWAY_TIMEOUT_SECONDS = 0.3
    gateway.delay = 10
    started = clock.monotonic()
    with pytest.raises(SmsTransientError) as excinfo:
        sms_send(to=NUMBER, text=TEXT, reference=REFERENCE)
    assert excinfo.value.code == "timeout"
    assert clock.monotonic() - started < 3
    # It did arrive: the retry carries the same reference so the gateway can drop it.
    assert [r["json"]["reference"] for r in gateway.received] == [REFERENCE]


def test_gateway_refusing_connections_is_transient(settings, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.NUDGES_SMS_BACKEND = "nudges.sms.HttpGatewayBackend"
    settings.NUDGES_SMS_GATEWAY_URL = f"http://127.0.0.1:{closed_port}/v1/messages"
    settings.NUDGES_SMS_GATEWAY_TOKEN = "test-token-123"
    with pytest.raises(SmsTransientError) as excinfo:
        sms_send(to=NUMBER, text=TEXT, reference=REFERENCE)
    assert excinfo.value.code == "connection error"


@pytest.mark.parametrize("to", ["0201234567", "geen nummer", "06-1234", ""])
def test_invalid_or_landline_number_is_permanent_and_never_reaches_the_gateway(gateway, to):
    with pytest.raises(SmsPermanentError) as excinfo:
        sms_send(to=to, text=TEXT, reference=REFERENCE)
    assert excinfo.value.code == "invalid_number"
    assert gateway.received == []


def test_logs_hold_the_reference_never_the_number_or_the_text(gateway, caplog):
    caplog.set_level("DEBUG")
    sms_send(to="0612345678", text=TEXT, reference=REFERENCE)
    gateway.status = 503
    with pytest.raises(SmsTransientError):
        sms_send(to="0612345678", text=TEXT, reference="scheduled-message-43")
    with pytest.raises(SmsPermanentError):
        sms_send(to="0201234567", text=TEXT, reference="scheduled-message-44")

    logged = caplog.text
    for reference in (REFERENCE, "scheduled-message-43", "scheduled-message-44"):
        assert reference in logged
    for secret in ("612345678", "201234567", TEXT, "morgen"):
        assert secret not in logged


def test_gateway_without_token_is_a_configuration_error(gateway, settings):
    settings.NUDGES_SMS_GATEWAY_TOKEN = ""
    with pytest.raises(ImproperlyConfigured):
        sms_send(to=NUMBER, text=TEXT, reference=REFERENCE)
    assert gateway.received == []


def test_sender_longer_than_eleven_characters_is_a_configuration_error(settings):
    settings.NUDGES_SMS_SENDER = "GemeenteVoorbeeldstad"
    with pytest.raises(ImproperlyConfigured):
        sms_send(to=NUMBER, text=TEXT, reference=REFERENCE)


@pytest.mark.parametrize("text", ["", "   ", "x" * (sms.MAX_TEXT_CHARS + 1)])
def test_empty_or_overlong_text_is_permanent(text, sms_outbox):
    with pytest.raises(SmsPermanentError):
        sms_send(to=NUMBER, text=text, reference=REFERENCE)
    assert sms_outbox == []


# --- development backends ------------------------------------------------------------------


def test_locmem_collects_normalised_messages(sms_outbox, settings):
    assert settings.NUDGES_SMS_BACKEND == "nudges.sms.LocMemBackend"
    first = sms_send(to="06 1234 5678", text=TEXT, reference=REFERENCE)
    second = sms_send(to="+31 6 8765 4321", text="Tweede", reference="scheduled-message-43")

    assert first != second
    assert [(m.to, m.sender, m.text, m.reference) for m in sms_outbox] == [
        (NUMBER, settings.NUDGES_SMS_SENDER, TEXT, REFERENCE),
        ("+31687654321", settings.NUDGES_SMS_SENDER, "Tweede", "scheduled-message-43"),
    ]


def test_file_backend_writes_one_file_per_message_with_its_reference(settings, tmp_path):
    settings.NUDGES_SMS_BACKEND = "nudges.sms.FileBackend"
    settings.NUDGES_SMS_FILE_PATH = tmp_path / "sms"
    ids = [
        sms_send(to="0612345678", text=TEXT, reference=REFERENCE),
        sms_send(to="0612345678", text=TEXT, reference=REFERENCE),  # a repeat, as after a retry
        sms_send(to="0687654321", text="Tweede", reference="scheduled-message-43"),
    ]

    files = sorted((tmp_path / "sms").iterdir())
    assert len(set(ids)) == 3
    assert len(files) == 3
    contents = [f.read_text(encoding="utf-8") for f in files]
    assert sum(f"Reference: {REFERENCE}\n" in c for c in contents) == 2
    assert len(list((tmp_path / "sms").glob(f"*{REFERENCE}*"))) == 2
    assert all(c.startswith("To: +316") and "From: Gemeente\n" in c for c in contents)
    assert sum(TEXT in c for c in contents) == 2


def test_console_backend_prints_text_and_reference_with_the_number_masked(settings, capsys):
    settings.NUDGES_SMS_BACKEND = "nudges.sms.ConsoleBackend"
    sms_send(to="0612345678", text=TEXT, reference=REFERENCE)

    out = capsys.readouterr().out
    assert TEXT in out
    assert REFERENCE in out
    assert "+316" in out and "678" in out
    assert NUMBER not in out


def test_console_backend_writes_to_the_stream_it_is_given():
    stream = StringIO()
    ConsoleBackend(stream=stream).send(sms.SmsMessage(to=NUMBER, sender="Gemeente", text=TEXT, reference=REFERENCE))
    assert TEXT in stream.getvalue()


def test_disabled_backend_refuses_every_message(settings):
    assert sms_enabled()
    settings.NUDGES_SMS_BACKEND = "nudges.sms.DisabledBackend"
    assert not sms_enabled()
    with pytest.raises(SmsPermanentError) as excinfo:
        sms_send(to=NUMBER, text=TEXT, reference=REFERENCE)
    assert excinfo.value.code == "sms disabled"


def test_unknown_backend_is_a_configuration_error(settings):
    settings.NUDGES_SMS_BACKEND = "nudges.sms.NoSuchBackend"
    with pytest.raises(ImproperlyConfigured):
        sms_send(to=NUMBER, text=TEXT, reference=REFERENCE)


# --- phone numbers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "0612345678",
        "06-12345678",
        "+31 6 1234 5678",
        "0031612345678",
        "06 12 34 56 78",
        "(06) 12345678",
        " 0612345678 ",
    ],
)
def test_dutch_mobile_numbers_become_e164(raw):
    assert phone_normalise(raw) == NUMBER
    assert phone_normalise(raw, mobile_only=True) == NUMBER


@pytest.mark.parametrize(
    "raw", ["", "geen", "abc123", "12", "06-1234", "+31612", "06 1234 56789", "0612345678901234", "0" * 1000]
)
def test_garbage_is_none(raw):
    assert phone_normalise(raw) is None


def test_landline_is_a_number_but_cannot_receive_an_sms():
    assert phone_normalise("020-1234567") == "+31201234567"
    assert phone_normalise("020-1234567", mobile_only=True) is None


def test_foreign_mobile_number_keeps_its_country():
    assert phone_normalise("+32 470 12 34 56", mobile_only=True) == "+32470123456"


# --- quiet hours ----------------------------------------------------------------------------


def ams(*args) -> datetime:
    return datetime(*args, tzinfo=AMS)


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        # An ordinary day.
        (ams(2027, 3, 10, 20, 59), ams(2027, 3, 10, 20, 59)),
        (ams(2027, 3, 10, 21, 0), ams(2027, 3, 11, 8, 0)),
        (ams(2027, 3, 10, 23, 59, 59), ams(2027, 3, 11, 8, 0)),
        (ams(2027, 3, 11, 0, 0), ams(2027, 3, 11, 8, 0)),
        (ams(2027, 3, 11, 3, 0), ams(2027, 3, 11, 8, 0)),
        (ams(2027, 3, 11, 7, 59, 59), ams(2027, 3, 11, 8, 0)),
        (ams(2027, 3, 11, 8, 0), ams(2027, 3, 11, 8, 0)),
        # Summer time starts on 2027-03-28 (02:00 → 03:00).
        (ams(2027, 3, 27, 20, 59), ams(2027, 3, 27, 20, 59)),
        (ams(2027, 3, 27, 21, 0), ams(2027, 3, 28, 8, 0)),
        (ams(2027, 3, 28, 3, 0), ams(2027, 3, 28, 8, 0)),
        (ams(2027, 3, 28, 8, 0), ams(2027, 3, 28, 8, 0)),
        (ams(2027, 3, 28, 20, 59), ams(2027, 3, 28, 20, 59)),
        (ams(2027, 3, 28, 21, 0), ams(2027, 3, 29, 8, 0)),
        # Winter time starts on 2027-10-31 (03:00 → 02:00).
        (ams(2027, 10, 30, 20, 59), ams(2027, 10, 30, 20, 59)),
        (ams(2027, 10, 30, 21, 0), ams(2027, 10, 31, 8, 0)),
        (ams(2027, 10, 31, 3, 0), ams(2027, 10, 31, 8, 0)),
        (ams(2027, 10, 31, 8, 0), ams(2027, 10, 31, 8, 0)),
        (ams(2027, 10, 31, 21, 0), ams(2027, 11, 1, 8, 0)),
    ],
)
def test_quiet_hours_shift(due, expected):
    shifted = sms_quiet_hours_shift(due)
    assert shifted == expected
    assert shifted.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    ("due_utc", "expected_utc"),
    [
        # 2027-03-27 21:00 CET is 20:00 UTC; 08:00 CEST the next morning is 06:00 UTC.
        (datetime(2027, 3, 27, 20, 0, tzinfo=UTC), datetime(2027, 3, 28, 6, 0, tzinfo=UTC)),
        (datetime(2027, 3, 27, 19, 59, tzinfo=UTC), datetime(2027, 3, 27, 19, 59, tzinfo=UTC)),
        # 01:30 UTC is 03:30 CEST, just after the jump.
        (datetime(2027, 3, 28, 1, 30, tzinfo=UTC), datetime(2027, 3, 28, 6, 0, tzinfo=UTC)),
        # 2027-10-30 21:00 CEST is 19:00 UTC; 08:00 CET the next morning is 07:00 UTC.
        (datetime(2027, 10, 30, 19, 0, tzinfo=UTC), datetime(2027, 10, 31, 7, 0, tzinfo=UTC)),
        # Both 02:30s of the night the clocks go back (00:30 and 01:30 UTC).
        (datetime(2027, 10, 31, 0, 30, tzinfo=UTC), datetime(2027, 10, 31, 7, 0, tzinfo=UTC)),
        (datetime(2027, 10, 31, 1, 30, tzinfo=UTC), datetime(2027, 10, 31, 7, 0, tzinfo=UTC)),
        # 06:59 UTC is 07:59 CET: still quiet; 07:00 UTC is 08:00 CET: not.
        (datetime(2027, 10, 31, 6, 59, tzinfo=UTC), datetime(2027, 10, 31, 7, 0, tzinfo=UTC)),
        (datetime(2027, 10, 31, 7, 0, tzinfo=UTC), datetime(2027, 10, 31, 7, 0, tzinfo=UTC)),
    ],
)
def test_quiet_hours_shift_in_utc_on_daylight_saving_days(due_utc, expected_utc):
    assert sms_quiet_hours_shift(due_utc) == expected_utc


def test_quiet_hours_follow_the_setting(settings):
    settings.NUDGES_SMS_QUIET_HOURS = (22, 9)
    assert sms_quiet_hours_shift(ams(2027, 3, 10, 21, 30)) == ams(2027, 3, 10, 21, 30)
    assert sms_quiet_hours_shift(ams(2027, 3, 11, 8, 30)) == ams(2027, 3, 11, 9, 0)
    settings.NUDGES_SMS_QUIET_HOURS = (0, 7)  # a window that does not wrap past midnight
    assert sms_quiet_hours_shift(ams(2027, 3, 10, 23, 30)) == ams(2027, 3, 10, 23, 30)
    assert sms_quiet_hours_shift(ams(2027, 3, 11, 6, 0)) == ams(2027, 3, 11, 7, 0)
    settings.NUDGES_SMS_QUIET_HOURS = (8, 8)  # off
    assert sms_quiet_hours_shift(ams(2027, 3, 11, 3, 0)) == ams(2027, 3, 11, 3, 0)


def test_quiet_hours_refuse_a_naive_datetime():
    with pytest.raises(ValueError, match="aware"):
        sms_quiet_hours_shift(datetime(2027, 3, 10, 22, 0))


@given(st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)))
def test_quiet_hours_never_send_at_night_and_never_earlier_or_later_than_needed(due):
    shifted = sms_quiet_hours_shift(due)
    local = shifted.astimezone(AMS)
    assert shifted >= due
    assert 8 <= local.hour < 21
    if 8 <= due.astimezone(AMS).hour < 21:
        assert shifted == due
    else:
        assert (local.hour, local.minute, local.second, local.microsecond) == (8, 0, 0, 0)
        assert shifted - due <= timedelta(hours=12)  # 21:00 to 08:00 is 12 h when the clocks go back


# --- the reminder text ----------------------------------------------------------------------


@pytest.fixture
def appointment():
    location = LocationFactory(name="Stadskantoor", street="Spui 70", postcode="2511 BT", city="Voorbeeldstad")
    product = ProductFactory(code="paspoort-sms", name_nl="Paspoort", name_en="Passport")
    return AppointmentFactory(
        start=ams(2027, 3, 10, 10, 0),
        desk=DeskFactory(location=location, products=[product]),
        products=[product],
        phone="0612345678",
        remind_by_sms=True,
    )


@pytest.mark.django_db
def test_reminder_text_in_dutch(appointment):
    text = sms_render_reminder(appointment=appointment, manage_url="https://www.example.nl/afspraak/abc/")
    assert text == (
        "Herinnering: uw afspraak bij Burgerzaken is op wo 10 maart om 10:00, Stadskantoor, Spui 70. "
        "Verzetten of annuleren: https://www.example.nl/afspraak/abc/"
    )


@pytest.mark.django_db
def test_reminder_text_in_english_uses_english_dates(appointment):
    appointment.language = "en"
    text = sms_render_reminder(appointment=appointment, manage_url="https://www.example.nl/afspraak/abc/")
    assert "Wed 10 March" in text
    assert "10:00" in text
    assert "maart" not in text


@pytest.mark.django_db
def test_reminder_text_shows_local_time_and_plain_characters(appointment):
    # Stored in UTC in summer: 08:00 UTC is 10:00 in Amsterdam.
    appointment.start = datetime(2027, 7, 1, 8, 0, tzinfo=UTC)
    appointment.desk.location.name = "Stadhuis & Balie"
    text = sms_render_reminder(appointment=appointment, manage_url=absolute_manage_url(appointment))
    assert "do 1 juli om 10:00" in text
    assert "Stadhuis & Balie" in text
    assert text.endswith(absolute_manage_url(appointment))
    # Two segments of plain (GSM-7) text at most, with a real manage link.
    assert text.isascii()
    assert len(text) <= 306
