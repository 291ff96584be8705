"""Satisfaction pages: the citizen's one question (``/tevredenheid/<token>/``) and the
manager's comparison per channel. Thin: ``nudges.satisfaction.services`` decides and stores.

Opening the link never changes anything (mail scanners open links too): ``?score=4`` from
the e-mail only preselects an answer; the answer is stored by the POST. Rate limited like the
other citizen pages.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from booking.web import AccessibleForm, citizen_page
from nudges.exceptions import NudgeError
from nudges.models import SatisfactionSurvey
from nudges.permissions import manager_render, manager_required
from nudges.satisfaction import selectors as satisfaction_selectors
from nudges.satisfaction import services as satisfaction

SCORE_ERROR = gettext_lazy("Kies een cijfer van 1 tot 5.")


class SatisfactionForm(AccessibleForm):
    score = forms.TypedChoiceField(
        label=gettext_lazy("Hoe tevreden bent u over uw afspraak bij Burgerzaken?"),
        help_text=gettext_lazy("1 is zeer ontevreden, 5 is zeer tevreden."),
        choices=[(score, f"{score} – {label}") for score, label in satisfaction.SCORE_LABELS.items()],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": SCORE_ERROR, "invalid_choice": SCORE_ERROR},
    )
    comment = forms.CharField(
        label=gettext_lazy("Wilt u uw antwoord toelichten?"),
        help_text=gettext_lazy(
            "Bijvoorbeeld wat goed ging of wat beter kan. Schrijf hier geen persoonsgegevens, zoals uw naam "
            "of burgerservicenummer. Maximaal 1000 tekens."
        ),
        required=False,
        max_length=SatisfactionSurvey.COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5, "cols": 40}),
        error_messages={
            "max_length": gettext_lazy(
                "Uw toelichting is te lang: maximaal %(limit_value)d tekens (u gebruikte er %(show_value)d)."
            )
        },
    )


CONTACT_QUESTION = gettext_lazy("Hoe tevreden bent u over uw contact met de gemeente?")


def _form(survey: SatisfactionSurvey, *args, **kwargs) -> SatisfactionForm:
    """The same one question; after a contact it asks about the contact, not a visit."""
    form = SatisfactionForm(*args, **kwargs)
    if survey.contact_id:
        form.fields["score"].label = CONTACT_QUESTION
    return form


def _preselected(request: HttpRequest) -> int | None:
    try:
        score = int(request.GET.get("score", ""))
    except ValueError:
        return None
    return score if score in satisfaction.SCORES else None


@citizen_page
@require_http_methods(["GET", "HEAD", "POST"])
def survey(request: HttpRequest, token: str) -> HttpResponse:
    found = satisfaction.survey_get_by_token(token)
    if found is None:
        return render(request, "nudges/satisfaction/not_found.html", status=404)
    if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
        # The e-mail went out in the appointment's language; the page follows it unless the
        # visitor has picked a language with the switch.
        translation.activate(found.language)
        request.LANGUAGE_CODE = found.language
    if found.is_answered:
        return render(request, "nudges/satisfaction/answered.html")
    if request.method == "POST":
        form = _form(found, request.POST)
        if form.is_valid():
            try:
                satisfaction.satisfaction_answer(
                    survey=found, score=form.cleaned_data["score"], comment=form.cleaned_data["comment"]
                )
            except satisfaction.AlreadyAnswered:
                return render(request, "nudges/satisfaction/answered.html")
            except NudgeError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
            else:
                messages.success(request, _("Bedankt, uw antwoord is opgeslagen."))
                return redirect("nudges:satisfaction", token=found.token)
    else:
        form = _form(found, initial={"score": _preselected(request)})
    return render(
        request,
        "nudges/satisfaction/survey.html",
        {
            "form": form,
            "summary": form.error_summary(),
            "survey": found,
            "retention_days": settings.BOOKING_RETENTION_DAYS,
        },
    )


@manager_required
@require_safe
def satisfaction_overview(request: HttpRequest) -> HttpResponse:
    return manager_render(
        request,
        "nudges/satisfaction/manager.html",
        {
            "channels": satisfaction_selectors.satisfaction_per_channel(),
            "few_answers": satisfaction_selectors.FEW_ANSWERS,
        },
    )
