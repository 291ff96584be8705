"""Staff pages for contacts: the registration page (and the same form as a panel on the desk's
day board and the phone agent's pages), same-day corrections, the KCC work instruction's answer
and the CSV import. Thin: the work is in ``services`` and ``kcc``."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from booking.selectors import product_find, products_by_ids
from booking.staff.permissions import nav_items, staff_required, user_can
from booking.web import add_domain_error
from nudges.exceptions import NudgeError
from nudges.models import ContactOutcome

from . import kcc, selectors, services
from .csv_import import MAX_CSV_BYTES, contacts_import_csv
from .forms import GENERAL, ContactRegisterForm, CorrectionForm, CsvImportForm, ScriptAnswerForm
from .services import ContactsRejected

REGISTER_CONTACTS = "nudges.register_contacts"
RUN_DESK = "booking.run_desk"
BOOK_BY_PHONE = "booking.book_by_phone"
CALL_SESSION_KEY = kcc.CALL_SESSION_KEY


def default_channel(user, page: str = "") -> str:
    """The desk registers on the counter channel, the KCC on the phone."""
    if page == "board":
        return "balie"
    if page in ("phone", "phone_book"):
        return "telefoon"
    if user_can(user, RUN_DESK) and not user_can(user, BOOK_BY_PHONE):
        return "balie"
    return "telefoon"


def _render(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    return render(request, template, {"nav": nav_items(request.user), **context}, status=status)


def _next(request: HttpRequest, value: str) -> str:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}):
        return value
    return reverse("contacts:register")


def _page(request: HttpRequest, form: ContactRegisterForm, status: int = 200) -> HttpResponse:
    today = list(selectors.contacts_registered_today(user=request.user)[:200])
    correction = CorrectionForm(contact_ids=[c.pk for c in today])
    return _render(
        request,
        "nudges/channels/register.html",
        {"form": form, "today": today, "correction": correction, "summary": form.error_summary()},
        status=status,
    )


@staff_required(REGISTER_CONTACTS)
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    channel = request.GET.get("kanaal") or default_channel(request.user)
    if request.method == "GET":
        return _page(request, ContactRegisterForm(default_channel=channel))
    form = ContactRegisterForm(request.POST, default_channel=channel)
    if not form.is_valid():
        return _page(request, form, status=400)
    data = form.cleaned_data
    product = product_find(data["product"]) if data["product"] != GENERAL else None
    minutes = data.get("minutes")
    try:
        services.contact_register(
            channel=data["channel"],
            products=[product] if product else [],
            outcome=data["outcome"],
            handling_seconds=minutes * 60 if minutes is not None else None,
            registered_by=request.user,
            survey_email=data["survey_email"] if data["survey_consent"] else "",
        )
    except NudgeError as error:
        add_domain_error(form, error)
        return _page(request, form, status=400)
    outcome = ContactOutcome(data["outcome"]).label
    if data["survey_consent"]:
        messages.success(request, _("De tevredenheidsvraag gaat per e-mail naar de inwoner."))
    messages.success(
        request,
        _("Contact geregistreerd: %(channel)s, %(product)s, %(outcome)s.")
        % {
            "channel": data["channel"].name,
            "product": product.name if product else _("algemene vraag"),
            "outcome": outcome,
        },
    )
    return redirect(_next(request, data.get("next") or ""))


@staff_required(REGISTER_CONTACTS)
@require_POST
def correct(request: HttpRequest) -> HttpResponse:
    today = list(selectors.contacts_registered_today(user=request.user).values_list("pk", flat=True))
    form = CorrectionForm(request.POST, contact_ids=today)
    if not form.is_valid():
        page = _page(request, ContactRegisterForm(default_channel=default_channel(request.user)), status=400)
        return (
            page
            if not form.errors
            else _render(
                request,
                "nudges/channels/register.html",
                {
                    "form": ContactRegisterForm(default_channel=default_channel(request.user)),
                    "today": list(selectors.contacts_registered_today(user=request.user)[:200]),
                    "correction": form,
                    "summary": form.error_summary(),
                },
                status=400,
            )
        )
    data = form.cleaned_data
    changed = services.contacts_correct(
        user=request.user,
        contact_ids=data["contacts"],
        channel=data["channel"] if data["action"] == "channel" else None,
        outcome=data["outcome"] if data["action"] == "outcome" else "",
        delete=data["action"] == "delete",
    )
    messages.success(request, _("%(n)d contact(en) gecorrigeerd.") % {"n": changed})
    return redirect("contacts:register")


@staff_required(BOOK_BY_PHONE)
@require_POST
def script_answer(request: HttpRequest) -> HttpResponse:
    form = ScriptAnswerForm(request.POST)
    call = request.session.get(CALL_SESSION_KEY) or {}
    back = _next(request, request.POST.get("next", ""))
    if not form.is_valid() or form.cleaned_data["unit"] != call.get("unit"):
        messages.error(request, _("Kies het antwoord van de beller."))
        return redirect(back)
    product = product_find(form.cleaned_data["product"])
    if product is None:
        messages.error(request, _("Onbekend product."))
        return redirect(back)
    data = form.cleaned_data
    if data["send"]:
        # Check the address before anything is recorded: a typo is corrected, not half-saved.
        try:
            kcc.address_check(channel=data["send"], address=data["address"])
        except NudgeError as error:
            messages.error(request, str(error.message))
            return redirect(back)
    result = kcc.script_answer_record(user=request.user, product=product, call_unit=call["unit"], answer=data["answer"])
    request.session[CALL_SESSION_KEY] = {**call, "answered": True, "online_url": result.online_url}
    if data["send"] and result.online_url:
        kcc.online_link_send(
            contact=result.contact, online_url=result.online_url, channel=data["send"], address=data["address"]
        )
        messages.success(request, _("Antwoord vastgelegd; de link gaat naar de beller."))
    else:
        messages.success(request, _("Antwoord vastgelegd."))
    return redirect(back)


# --- panels on booking's staff pages (booking.staff.panels, registered in NudgesConfig.ready) --


def registration_panel(request: HttpRequest, page: str = "", **facts) -> dict:
    return {
        "form": ContactRegisterForm(
            default_channel=default_channel(request.user, page), initial={"next": request.get_full_path()}
        ),
        "page": page,
    }


def board_panel(request: HttpRequest, **facts) -> dict:
    return registration_panel(request, "board")


def phone_panel(request: HttpRequest, **facts) -> dict:
    # The phone agent's start page begins a new call: a new unit for the work instruction.
    request.session[CALL_SESSION_KEY] = {"unit": kcc.new_call_unit()}
    return registration_panel(request, "phone")


def script_panel(request: HttpRequest, product_ids=(), **facts) -> dict | None:
    """The KCC work instruction for the products the caller asks about."""
    if not product_ids:
        return None
    call = request.session.get(CALL_SESSION_KEY) or {}
    if not call.get("unit"):
        call = {"unit": kcc.new_call_unit()}
        request.session[CALL_SESSION_KEY] = call
    products = products_by_ids(product_ids)
    script = kcc.script_for_call(products=products, call_unit=call["unit"])
    if script is None:
        return None
    return {
        "script": script,
        "answered": call.get("answered", False),
        "online_url": call.get("online_url", ""),
        "form": ScriptAnswerForm(
            initial={"product": script.product.code, "unit": call["unit"], "next": request.get_full_path()}
        ),
    }


@staff_required(REGISTER_CONTACTS)
@require_http_methods(["GET", "POST"])
def csv_import(request: HttpRequest) -> HttpResponse:
    form = CsvImportForm(request.POST or None, request.FILES or None)
    row_errors: list[tuple[int, str, str]] = []
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > MAX_CSV_BYTES:
                form.add_error("file", _("Het bestand is groter dan 10 MB; splits de export per dag."))
            else:
                try:
                    result = contacts_import_csv(
                        data=upload.read(), system=form.cleaned_data["system"], registered_by=request.user
                    )
                except ContactsRejected as rejected:
                    form.add_error("file", str(rejected.message))
                    row_errors = [
                        (line, name, " ".join(str(m) for m in messages))
                        for line, fields in sorted(rejected.errors.items())
                        for name, messages in fields.items()
                    ][:200]
                except NudgeError as error:
                    form.add_error(error.field if error.field in form.fields else "file", str(error.message))
                else:
                    messages.success(
                        request,
                        _("%(created)d contacten ingelezen, %(unchanged)d waren al bekend.")
                        % {"created": result.created, "unchanged": result.unchanged},
                    )
                    return redirect("contacts:import")
    return _render(
        request,
        "nudges/channels/import.html",
        {"form": form, "row_errors": row_errors, "summary": form.error_summary()},
        status=status,
    )
