"""Staff accounts beyond the password: session lifetimes and two-step verification (TOTP).

- A staff session ends after ``STAFF_IDLE_MINUTES`` without a click (the day board's own
  refresh does not count) and ``STAFF_SESSION_HOURS`` after logging in.
- TOTP codes (django-otp) are required for the roles in ``STAFF_MFA_REQUIRED_GROUPS`` and for
  superusers, and offered to everyone on the enrol page (a QR code drawn on the server as SVG,
  plus the secret as text). The Django admin wants a code entered in the last
  ``STAFF_ADMIN_REAUTH_MINUTES`` from every user, so a forgotten session cannot change much.

Login throttling and lockout are django-axes' (settings ``AXES_*``).
"""

from __future__ import annotations

import time
from base64 import b32encode
from typing import Any

import segno
from django import forms
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from booking.forms import AccessibleForm

SESSION_LOGIN_AT = "staff_login_at"
SESSION_SEEN_AT = "staff_seen_at"
SESSION_VERIFIED_AT = "staff_otp_at"
GET_POST = ["GET", "HEAD", "POST"]
# Pages a user must reach before a code is asked (or to give one).
OPEN_PREFIXES = ("/static/", "/i18n/", "/medewerkers/inloggen/", "/medewerkers/uitloggen/", "/medewerkers/tweestaps")


def is_verified(user: Any) -> bool:
    """True when this session gave a code (django-otp's middleware adds ``is_verified``)."""
    return bool(user.is_verified())


def mfa_required(user) -> bool:
    return user.is_superuser or user.groups.filter(name__in=settings.STAFF_MFA_REQUIRED_GROUPS).exists()


def _verified_recently(request: HttpRequest, now: float) -> bool:
    verified_at = request.session.get(SESSION_VERIFIED_AT) or 0
    return is_verified(request.user) and now - verified_at < settings.STAFF_ADMIN_REAUTH_MINUTES * 60


def _ask_for_code(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(_("Tweestapsverificatie is nodig.")), "code": "mfa_required"}, status=403)
    target = "staff:mfa_verify" if user_has_device(request.user) else "staff:mfa_enrol"
    return redirect_to_login(request.get_full_path(), login_url=reverse(target))


class StaffSessionMiddleware:
    """Ends idle and old staff sessions and asks for a code where one is needed."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            started = request.session.setdefault(SESSION_LOGIN_AT, now)
            seen = request.session.get(SESSION_SEEN_AT, now)
            if now - seen > settings.STAFF_IDLE_MINUTES * 60 or now - started > settings.STAFF_SESSION_HOURS * 3600:
                logout(request)
                return redirect_to_login(request.get_full_path())
            if request.headers.get("X-Requested-With") != "fetch":  # the board's refresh is not a click
                request.session[SESSION_SEEN_AT] = now
            if not request.path.startswith(OPEN_PREFIXES):
                if request.path.startswith("/admin/"):
                    if not _verified_recently(request, now):
                        return _ask_for_code(request)
                elif not is_verified(request.user) and mfa_required(request.user):
                    return _ask_for_code(request)
        return self.get_response(request)


class CodeForm(AccessibleForm):
    code = forms.CharField(
        label=_("Code uit uw app"),
        help_text=_("De zes cijfers die uw authenticator-app nu toont."),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}),
        error_messages={"required": _("Vul de code in.")},
    )


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    return target if target.startswith("/") and not target.startswith("//") else reverse("staff:home")


def _verified(request: HttpRequest, device) -> HttpResponse:
    otp_login(request, device)
    request.session[SESSION_VERIFIED_AT] = time.time()
    return redirect(_next(request))


def _staff_render(request, template, context):
    from .permissions import staff_render

    return staff_render(request, template, context)


@never_cache
@login_required
@require_http_methods(GET_POST)
def enrol(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan the QR code (or type the secret), then give a code."""
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first() or TOTPDevice.objects.create(
        user=request.user, name=str(_("Authenticator-app")), confirmed=False
    )
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"].replace(" ", "")):
            TOTPDevice.objects.filter(user=request.user, confirmed=True).delete()
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            return _verified(request, device)
        form.add_error("code", _("Deze code klopt niet. Kijk of de tijd op uw telefoon goed staat."))
    qr = segno.make(device.config_url, error="m")
    context = {
        "form": form,
        "qr_svg": qr.svg_inline(scale=4, title=str(_("QR-code voor uw authenticator-app"))),
        "secret": " ".join(_chunks(b32encode(device.bin_key).decode())),
        "next": _next(request),
        "summary": form.error_summary(),
    }
    return _staff_render(request, "staff/mfa_enrol.html", context)


@never_cache
@login_required
@require_http_methods(GET_POST)
def verify(request: HttpRequest) -> HttpResponse:
    """Give a code from the app set up before (after the password, and again for the admin)."""
    if not user_has_device(request.user):
        return redirect(f"{reverse('staff:mfa_enrol')}?next={_next(request)}")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["code"].replace(" ", ""))
        if device is not None:
            return _verified(request, device)
        form.add_error("code", _("Deze code klopt niet of is al gebruikt. Wacht op de volgende code."))
    context = {"form": form, "next": _next(request), "summary": form.error_summary()}
    return _staff_render(request, "staff/mfa_verify.html", context)


def _chunks(text: str, size: int = 4) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]
