"""Satisfaction: one question by e-mail after a served visit (planned on booking's hook, sent by
the outbox), the citizen's page, the manager's figures per channel, the comments' retention,
and that nudges tables hold pseudonymous ids only."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from booking import hooks
from booking.constants import AppointmentStatus, Channel
from booking.models import Appointment
from booking.retention import personal_data_erase_expired
from booking.services import appointment_cancel
from booking.staff import services as desk
from nudges.constants import MessageKind, MessageStatus
from nudges.models import SatisfactionSurvey, ScheduledMessage
from nudges.outbox.dispatch import messages_dispatch_due
from nudges.satisfaction import selectors as satisfaction_selectors
from nudges.satisfaction import services as satisfaction
from tests.concurrency import race
from tests.factories import AppointmentFactory, DeskFactory, ProductFactory
from tests.nudges.factories import SatisfactionSurveyFactory, ScheduledMessageFactory

AMS = ZoneInfo("Europe/Amsterdam")
VISIT = datetime(2027, 3, 3, 10, 0, tzinfo=AMS)
SERVED_AT = datetime(2027, 3, 3, 10, 20, tzinfo=AMS)
DUE = SERVED_AT + timedelta(minutes=120)


@pytest.fixture
def product():
    return ProductFactory(code="paspoort-tv", name_nl="Paspoort", name_en="Passport")


@pytest.fixture
def appointment(product):
    return AppointmentFactory(
        start=VISIT,
        desk=DeskFactory(products=[product]),
        products=[product],
        name="Sanne Jansen",
        email="sanne@example.nl",
        channel=Channel.PHONE,
    )


@pytest.fixture
def serve(django_capture_on_commit_callbacks):
    """Mark served through the desk's real service; the hooks run as after a real commit."""

    def run(appointment, *, now=SERVED_AT):
        with django_capture_on_commit_callbacks(execute=True):
            return desk.appointment_mark_served(appointment=appointment, actor=None, online_possible="no", now=now)

    return run


@pytest.fixture
def undo(django_capture_on_commit_callbacks):
    def run(appointment, *, now):
        with django_capture_on_commit_callbacks(execute=True):
            return desk.appointment_undo_status(appointment=appointment, actor=None, now=now)

    return run


def outbox_rows(appointment):
    return list(ScheduledMessage.objects.filter(appointment=appointment, kind=MessageKind.SATISFACTION))


def survey_of(appointment) -> SatisfactionSurvey:
    return SatisfactionSurvey.objects.get(appointment_id=appointment.pk)


# --- planning -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_served_plans_one_question_after_the_delay(appointment, serve):
    serve(appointment)

    (row,) = outbox_rows(appointment)
    assert (row.status, row.channel, row.due_at) == (MessageStatus.PENDING, "email", DUE)
    survey = survey_of(appointment)
    assert survey.channel == Channel.PHONE and survey.language == "nl"
    assert survey.score is None and survey.answered_at is None
    assert len(survey.token) >= 32  # 24 random bytes, URL-safe: 192 bits


@pytest.mark.django_db
def test_the_delay_is_a_setting(appointment, serve, settings):
    settings.NUDGES_SATISFACTION_DELAY_MINUTES = 15
    serve(appointment)
    assert outbox_rows(appointment)[0].due_at == SERVED_AT + timedelta(minutes=15)


@pytest.mark.django_db
def test_no_question_for_no_show_cancelled_or_checked_in(product, django_capture_on_commit_callbacks):
    no_show = AppointmentFactory(start=VISIT, products=[product])
    checked_in = AppointmentFactory(start=VISIT, products=[product])
    cancelled = AppointmentFactory(start=VISIT + timedelta(days=2), products=[product])
    with django_capture_on_commit_callbacks(execute=True):
        desk.appointment_mark_no_show(appointment=no_show, actor=None, now=SERVED_AT)
        desk.appointment_check_in(appointment=checked_in, actor=None, now=SERVED_AT)
        appointment_cancel(appointment=cancelled, now=SERVED_AT)

    assert not ScheduledMessage.objects.filter(kind=MessageKind.SATISFACTION).exists()
    assert not SatisfactionSurvey.objects.exists()


@pytest.mark.django_db
def test_served_twice_or_undone_and_redone_plans_one(appointment, serve, undo):
    serve(appointment)
    serve(appointment)  # a double click at the desk
    undo(appointment, now=SERVED_AT + timedelta(minutes=1))
    serve(appointment, now=SERVED_AT + timedelta(minutes=2))
    satisfaction.satisfaction_plan(appointment.pk)  # and the hook once more for good measure

    (row,) = outbox_rows(appointment)
    assert row.status == MessageStatus.PENDING and row.due_at == DUE
    assert SatisfactionSurvey.objects.filter(appointment_id=appointment.pk).count() == 1


@pytest.mark.django_db
def test_no_question_without_an_address_or_after_anonymisation(product, serve):
    walk_in = AppointmentFactory(start=VISIT, products=[product], email="")
    erased = AppointmentFactory(start=VISIT, products=[product], anonymised_at=SERVED_AT)
    serve(walk_in)
    serve(erased)
    assert not ScheduledMessage.objects.filter(kind=MessageKind.SATISFACTION).exists()


@pytest.mark.django_db
def test_the_question_is_planned_in_the_desks_transaction_and_rolls_back_with_it(appointment):
    class Crash(Exception):
        pass

    with pytest.raises(Crash), transaction.atomic():
        desk.appointment_mark_served(appointment=appointment, actor=None, online_possible="no", now=SERVED_AT)
        assert len(outbox_rows(appointment)) == 1  # written with "served", not after the commit
        raise Crash

    assert outbox_rows(appointment) == [] and not SatisfactionSurvey.objects.exists()


@pytest.mark.django_db
def test_the_listener_and_builder_are_registered():
    from nudges.outbox import dispatch as messaging

    assert satisfaction.satisfaction_plan in hooks._transactional_listeners[hooks.APPOINTMENT_STATUS_CHANGED]
    assert messaging._builders[MessageKind.SATISFACTION] is satisfaction.satisfaction_build


# --- sending through the outbox -------------------------------------------------------------


@pytest.mark.django_db
def test_dispatch_sends_the_question_once_in_dutch(appointment, serve):
    serve(appointment)
    assert messages_dispatch_due(now=DUE - timedelta(minutes=1)) == 0  # not yet

    assert messages_dispatch_due(now=DUE) == 1
    assert messages_dispatch_due(now=DUE + timedelta(minutes=5)) == 0

    (email,) = mail.outbox
    token = survey_of(appointment).token
    link = f"{settings.SITE_URL}/tevredenheid/{token}/"
    assert email.to == ["sanne@example.nl"]
    assert email.subject == "Hoe tevreden bent u over uw afspraak bij Burgerzaken?"
    assert "Beste Sanne Jansen," in email.body and "3 maart 2027" in email.body
    assert f"5 – Zeer tevreden: {link}?score=5" in email.body
    assert f"1 – Zeer ontevreden: {link}?score=1" in email.body
    html = email.alternatives[0][0]
    assert f'href="{link}?score=3"' in html and 'lang="nl"' in html
    (row,) = outbox_rows(appointment)
    assert row.status == MessageStatus.SENT
    assert email.extra_headers["Message-ID"] == f"<scheduled-message-{row.pk}@kanaalwijzer>"


@pytest.mark.django_db
def test_the_question_goes_out_in_english_for_an_english_appointment(appointment, serve):
    appointment.language = "en"
    appointment.save(update_fields=["language"])
    serve(appointment)
    messages_dispatch_due(now=DUE)

    (email,) = mail.outbox
    assert "3 March 2027" in email.body  # dates in the citizen's language
    assert 'lang="en"' in email.alternatives[0][0]
    with translation.override("en"):
        subject = gettext("Hoe tevreden bent u over uw afspraak bij Burgerzaken?")
        very = gettext("Zeer tevreden")
    if subject.startswith("Hoe tevreden"):
        pytest.skip("the English wording is not in locale/en yet (the lead adds it)")
    assert email.subject == subject
    assert f"5 – {very}:" in email.body


@pytest.mark.django_db
def test_undoing_served_before_the_e_mail_cancels_it(appointment, serve, undo):
    serve(appointment)
    undo(appointment, now=SERVED_AT + timedelta(minutes=30))

    assert messages_dispatch_due(now=DUE) == 0
    assert mail.outbox == []
    (row,) = outbox_rows(appointment)
    assert row.status == MessageStatus.CANCELLED

    # Served again after that: the visit did happen, so the question is planned anew.
    serve(appointment, now=DUE + timedelta(minutes=10))
    assert [r.status for r in outbox_rows(appointment)].count(MessageStatus.PENDING) == 1


@pytest.mark.django_db
def test_no_e_mail_once_answered_or_anonymised(appointment, serve, product):
    serve(appointment)
    satisfaction.satisfaction_answer(survey=survey_of(appointment), score=4)
    other = AppointmentFactory(start=VISIT, products=[product], email="jan@example.nl")
    serve(other)
    Appointment.objects.filter(pk=other.pk).update(email="", name="", anonymised_at=DUE)

    assert messages_dispatch_due(now=DUE) == 0
    assert mail.outbox == []
    assert {r.status for r in outbox_rows(appointment) + outbox_rows(other)} == {MessageStatus.CANCELLED}


# --- the citizen's page ---------------------------------------------------------------------


@pytest.fixture
def survey(appointment, serve):
    serve(appointment)
    return survey_of(appointment)


def url(survey, query=""):
    return reverse("nudges:satisfaction", args=[survey.token]) + query


@pytest.mark.django_db
def test_the_page_asks_one_accessible_question_and_opening_it_changes_nothing(client, survey):
    response = client.get(url(survey, "?score=4"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "<fieldset" in page and "<legend" in page
    assert "Hoe tevreden bent u over uw afspraak bij Burgerzaken?" in page
    for score in range(1, 6):
        assert f'type="radio" name="score" value="{score}"' in page
        assert f'<label for="id_score_{score - 1}">' in page
    assert re.search(r'<input type="radio" name="score" value="4"[^>]*checked', page)  # preselected from the link
    assert '<label class="label" for="id_comment">' in page and "<textarea" in page
    assert 'name="robots" content="noindex"' in page
    survey.refresh_from_db()
    assert survey.score is None and survey.answered_at is None


@pytest.mark.django_db
def test_a_valid_answer_is_stored_once_and_thanked(client, survey):
    response = client.post(url(survey), {"score": "2", "comment": "  Lang gewacht aan de balie.  "})

    assert response.status_code == 302 and response["Location"] == url(survey)
    survey.refresh_from_db()
    assert (survey.score, survey.comment) == (2, "Lang gewacht aan de balie.")
    assert survey.answered_at is not None and survey.channel == Channel.PHONE
    thanks = client.get(url(survey)).content.decode()
    assert "Bedankt, uw antwoord is opgeslagen." in thanks and '<form method="post"' not in thanks


@pytest.mark.django_db
def test_a_comment_is_optional(client, survey):
    assert client.post(url(survey), {"score": "5"}).status_code == 302
    survey.refresh_from_db()
    assert (survey.score, survey.comment) == (5, "")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"score": "0"}, "score", "Kies een cijfer van 1 tot 5."),
        ({"score": "6"}, "score", "Kies een cijfer van 1 tot 5."),
        ({"score": "vier"}, "score", "Kies een cijfer van 1 tot 5."),
        ({"comment": "Prima"}, "score", "Kies een cijfer van 1 tot 5."),
        (
            {"score": "3", "comment": "x" * 1001},
            "comment",
            "Uw toelichting is te lang: maximaal 1000 tekens (u gebruikte er 1001).",
        ),
    ],
)
def test_bad_input_is_shown_next_to_its_field_and_nothing_is_stored(client, survey, data, field, message):
    response = client.post(url(survey), data)

    assert response.status_code == 200
    page = response.content.decode()
    error = re.search(rf'<p class="error-message" id="id_{field}_error">(.*?)</p>', page, re.S)
    assert error and message in error.group(1)
    assert "error-summary" in page and page.count(message) == 2  # summary at the top, and at the field
    assert f"id_{field}_error" in re.search(rf'aria-describedby="[^"]*id_{field}_error', page).group(0)
    survey.refresh_from_db()
    assert survey.score is None and survey.answered_at is None


@pytest.mark.django_db
def test_a_second_answer_is_refused_politely_and_the_first_kept(client, survey):
    client.post(url(survey), {"score": "4", "comment": "Snel geholpen."})

    response = client.post(url(survey), {"score": "1", "comment": "Toch niet."})

    assert response.status_code == 200
    assert "Per afspraak telt één antwoord" in response.content.decode()
    survey.refresh_from_db()
    assert (survey.score, survey.comment) == (4, "Snel geholpen.")
    with pytest.raises(satisfaction.AlreadyAnswered):
        satisfaction.satisfaction_answer(survey=survey, score=1)


@pytest.mark.django_db
def test_an_unknown_token_is_a_friendly_404(client, survey):
    for token in ("niet-bestaand", "x" * 65):
        response = client.get(reverse("nudges:satisfaction", args=[token]))
        assert response.status_code == 404
        assert "Deze link werkt niet" in response.content.decode()
    assert client.post(reverse("nudges:satisfaction", args=["niet-bestaand"]), {"score": "5"}).status_code == 404


@pytest.mark.django_db
def test_a_nonsense_preselection_is_ignored(client, survey):
    for query in ("?score=9", "?score=abc", "?score="):
        response = client.get(url(survey, query))
        assert response.status_code == 200
        assert "checked" not in response.content.decode()


@pytest.mark.django_db
def test_answers_are_rate_limited_like_other_citizen_posts(client, survey, settings):
    settings.RATELIMIT_ENABLE = True
    settings.BOOKING_RATELIMIT_ACTIONS = "2/m"
    for _attempt in range(2):
        assert client.post(url(survey), {"score": "9"}).status_code == 200

    response = client.post(url(survey), {"score": "4"})

    assert response.status_code == 429
    survey.refresh_from_db()
    assert survey.score is None


@pytest.mark.django_db
def test_the_page_opens_in_the_language_of_the_appointment(client, appointment, serve):
    appointment.language = "en"
    appointment.save(update_fields=["language"])
    serve(appointment)
    page = client.get(url(survey_of(appointment))).content.decode()
    assert '<html lang="en">' in page
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nl"  # the visitor's own choice wins
    assert '<html lang="nl">' in client.get(url(survey_of(appointment))).content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_answers_at_once_store_exactly_one(product):
    appointment = AppointmentFactory(start=VISIT, products=[product], status=AppointmentStatus.SERVED)
    SatisfactionSurvey.objects.create(appointment_id=appointment.pk, token="t" * 32, channel=Channel.ONLINE)
    survey = SatisfactionSurvey.objects.get(token="t" * 32)

    outcomes = race(2, lambda i: satisfaction.satisfaction_answer(survey=survey, score=(1, 5)[i]))

    def kind(outcome):
        if isinstance(outcome, satisfaction.AlreadyAnswered):
            return "refused"
        return repr(outcome) if isinstance(outcome, Exception) else "stored"

    assert sorted(map(kind, outcomes)) == ["refused", "stored"]
    assert SatisfactionSurvey.objects.get().score in (1, 5)


# --- the manager's figures ------------------------------------------------------------------


def answered(channel, score, *, sent=True, comment=""):
    appointment = AppointmentFactory(channel=channel, status=AppointmentStatus.SERVED)
    survey = SatisfactionSurveyFactory(appointment_id=appointment.pk, channel=channel)
    if sent:
        ScheduledMessageFactory(appointment=appointment, satisfaction=True, sent=True, due_at=DUE)
    if score is not None:
        satisfaction.satisfaction_answer(survey=survey, score=score, comment=comment)
    return survey


@pytest.mark.django_db
def test_figures_per_channel():
    for score in (5, 4, 4):
        answered(Channel.ONLINE, score)
    answered(Channel.ONLINE, None)  # sent, not answered
    answered(Channel.ONLINE, None, sent=False)  # planned, not sent yet: not counted as sent
    answered(Channel.PHONE, 2)
    answered(Channel.PHONE, 3, sent=False)  # answered, so evidently received

    figures = {
        row.channel: row for row in satisfaction_selectors.satisfaction_per_channel() if row.after == "appointment"
    }

    online, phone, counter = figures[Channel.ONLINE], figures[Channel.PHONE], figures[Channel.COUNTER]
    assert (online.sent, online.answers, online.distribution) == (4, 3, (0, 0, 0, 2, 1))
    assert online.response_rate == pytest.approx(0.75)
    assert online.mean == pytest.approx(13 / 3)
    assert online.ci_low < online.mean < online.ci_high and online.few_answers
    assert (phone.sent, phone.answers, phone.mean, phone.response_rate) == (2, 2, 2.5, 1.0)
    assert (counter.sent, counter.answers, counter.mean, counter.response_rate) == (0, 0, None, None)
    assert list(figures) == [c for c, _label in Channel.choices]


@pytest.mark.django_db
def test_the_interval_narrows_with_more_answers():
    few = satisfaction_selectors._mean_interval((0, 1, 1, 1, 0))
    many = satisfaction_selectors._mean_interval((0, 100, 100, 100, 0))
    assert few[0] == many[0] == 3
    assert (many[2] - many[1]) < (few[2] - few[1])
    assert satisfaction_selectors._mean_interval((0, 0, 0, 0, 0)) == (None, None, None)
    assert satisfaction_selectors._mean_interval((0, 0, 0, 0, 1)) == (5, None, None)


@pytest.fixture
def manager(django_user_model):
    from nudges.roles import nudges_roles_ensure

    nudges_roles_ensure()
    user = django_user_model.objects.create_user("mila", password="pw-geheim-123")
    user.groups.add(Group.objects.get(name="Manager"))
    return user


@pytest.mark.django_db
def test_the_manager_page_shows_the_figures(client, manager):
    for score in (5, 4, 4):
        answered(Channel.ONLINE, score)
    answered(Channel.ONLINE, None)
    client.force_login(manager)

    page = client.get(reverse("nudges:manager-satisfaction")).content.decode()

    assert "Tevredenheid per kanaal" in page
    row = re.search(r"<th scope=\"row\">Online</th>(.*?)</tr>", page, re.S).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    assert cells[0:4] == ["Na afspraak", "4", "3", "75,0%"]
    assert cells[4].startswith("4,33")
    assert cells[5:] == ["0 (0,0%)", "0 (0,0%)", "0 (0,0%)", "2 (66,7%)", "1 (33,3%)"]
    # Linked from the experiments page and the staff navigation.
    assert reverse("nudges:manager-satisfaction") in client.get(reverse("nudges:manager-list")).content.decode()
    assert reverse("nudges:manager-satisfaction") in client.get(reverse("staff:home")).content.decode()


@pytest.mark.django_db
def test_the_manager_page_is_for_managers_only(client, django_user_model):
    from booking.staff.roles import roles_ensure

    groups = roles_ensure()
    page = reverse("nudges:manager-satisfaction")
    response = client.get(page)
    assert response.status_code == 302 and reverse("staff:login") in response["Location"]
    for role in ("Baliemedewerker", "KCC-medewerker", "Planner"):
        user = django_user_model.objects.create_user(role.lower(), password="pw-geheim-123")
        user.groups.add(groups[role])
        client.force_login(user)
        assert client.get(page).status_code == 403, role


# --- retention and privacy ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_nightly_job_erases_old_comments_and_keeps_scores(settings):
    settings.BOOKING_RETENTION_DAYS = 30
    old = answered(Channel.ONLINE, 2, comment="Mijn naam is Sanne, bel me op 0612345678.")
    recent = answered(Channel.ONLINE, 5, comment="Fijn.")
    now = old.answered_at + timedelta(days=31)
    SatisfactionSurvey.objects.filter(pk=recent.pk).update(answered_at=now - timedelta(days=29))

    dry = personal_data_erase_expired(now=now, dry_run=True)
    assert dry.steps["satisfaction_comments"] == 1
    assert SatisfactionSurvey.objects.get(pk=old.pk).comment != ""

    report = personal_data_erase_expired(now=now)

    assert report.steps["satisfaction_comments"] == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.comment, old.score, old.channel) == ("", 2, Channel.ONLINE)
    assert (recent.comment, recent.score) == ("Fijn.", 5)
    assert personal_data_erase_expired(now=now).steps["satisfaction_comments"] == 0  # idempotent


PERSONAL = re.compile(r"name|naam|e_?mail|phone|telefoon|address|adres|postcode|ip_|_ip$|bsn|birth|geboorte")
# Fields whose names sound personal but are not about citizens.
NOT_ABOUT_CITIZENS = {
    ("Intervention", "name"),  # the intervention's own name
    ("Experiment", "name"),  # the experiment's own name
    ("ContactChannel", "name_nl"),  # a channel's own name (balie, telefoon, …)
    ("ContactChannel", "name_en"),
}
# Reviewed exceptions: contact data a nudges feature needs while it runs, erased when it ends.
CONTACT_WHILE_ACTIVE = {
    ("WaitlistEntry", "name"),  # emptied when the entry ends (nudges.waitlist, a database constraint)
    ("WaitlistEntry", "email"),
    ("OnlineLink", "address"),  # emptied once the link to a caller went out, or after a day (nudges.channels.kcc)
    ("SatisfactionSurvey", "address"),  # a contact's question: emptied once sent, or a day after it fell due
}


def test_nudges_tables_hold_pseudonymous_ids_only():
    """No nudges model stores a citizen's name, address, phone number or the like; a new
    field that sounds like one fails here until it is reviewed."""
    found = []
    for model in apps.get_app_config("nudges").get_models():
        for field in model._meta.get_fields():
            if not field.concrete:
                continue
            if (
                PERSONAL.search(field.name)
                and (model.__name__, field.name) not in NOT_ABOUT_CITIZENS | CONTACT_WHILE_ACTIVE
            ):
                found.append(f"{model.__name__}.{field.name}")
            if field.is_relation and field.related_model is not None:
                assert field.related_model._meta.label != "booking.Appointment" or field.name == "appointment", (
                    model.__name__,
                    field.name,
                )
    assert found == []
    assert "SatisfactionSurvey" in {m.__name__ for m in apps.get_app_config("nudges").get_models()}
