"""Integration clients: systems that call Kanaalwijzer's APIs with a token of their own.

Public, for every app: ``integration_client_create`` and ``integration_client_authenticate``
(services), ``register_scope`` / ``known_scopes`` (the scope registry) and, for API views,
``booking.apis.auth`` (the DRF authentication, scope permission and per-client throttle).

A scope names one API a client may use. Booking registers ``appointments``; another app
registers its own scope in its ``AppConfig.ready`` (booking does not know the other apps).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .exceptions import InvalidRequest
from .models import IntegrationClient

SCOPE_APPOINTMENTS = "appointments"

_scopes: dict[str, Any] = {SCOPE_APPOINTMENTS: gettext_lazy("Afspraken boeken en annuleren (Qmatic-koppeling)")}

# Tokens are 43 characters (32 random bytes, URL-safe); anything much longer is not ours.
_MAX_TOKEN_LENGTH = 128


def register_scope(code: str, label: Any) -> None:
    """Make a scope known (idempotent), from an app's ``AppConfig.ready``."""
    _scopes[code] = label


def known_scopes() -> dict[str, Any]:
    return dict(_scopes)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def integration_client_create(
    *, name: str, scopes: Iterable[str], send_confirmation_emails: bool = True
) -> tuple[IntegrationClient, str]:
    """A new client with these scopes and its token; the token is returned once and stored
    only as a SHA-256 hash."""
    name = (name or "").strip()
    scopes = list(dict.fromkeys(scopes))
    if not name:
        raise InvalidRequest(_("Geef de koppeling een naam."), field="name")
    unknown = [scope for scope in scopes if scope not in _scopes]
    if unknown or not scopes:
        raise InvalidRequest(
            _("Kies rechten uit: %(known)s.") % {"known": ", ".join(sorted(_scopes))},
            field="scopes",
        )
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        if IntegrationClient.objects.filter(name=name).exists():
            raise InvalidRequest(_("Er bestaat al een koppeling met deze naam."), field="name")
        client = IntegrationClient.objects.create(
            name=name,
            token_hash=_token_hash(token),
            token_prefix=token[:8],
            scopes=scopes,
            send_confirmation_emails=send_confirmation_emails,
        )
    return client, token


def integration_client_authenticate(token: str) -> IntegrationClient | None:
    """The active client holding this token, or None."""
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    client = IntegrationClient.objects.filter(token_hash=_token_hash(token), is_active=True).first()
    if client is not None:
        now = timezone.now()
        # At most one write a minute per client: this runs on every request.
        if client.last_used_at is None or now - client.last_used_at > timedelta(minutes=1):
            IntegrationClient.objects.filter(pk=client.pk).update(last_used_at=now)
    return client
