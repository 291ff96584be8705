"""System checks of nudges. ``unit_hash_key_check`` (deploy): ``NUDGES_UNIT_HASH_KEY`` must be
its own secret, never the Django secret key or the local-only default: rotating the Django
secret is routine, and it must not re-hash every visitor into a new unit (possibly another arm)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register

LOCAL_DEFAULT_PREFIX = "insecure-local-only"
MIN_KEY_LENGTH = 32


@register(Tags.security, deploy=True)
def unit_hash_key_check(app_configs=None, **kwargs) -> list[Error]:
    key = getattr(settings, "NUDGES_UNIT_HASH_KEY", "")
    if not key or key.startswith(LOCAL_DEFAULT_PREFIX) or len(key) < MIN_KEY_LENGTH:
        return [
            Error(
                "NUDGES_UNIT_HASH_KEY is not set to a random key of at least 32 characters.",
                hint="Set the NUDGES_UNIT_HASH_KEY environment variable; see README (rotating it).",
                id="nudges.E001",
            )
        ]
    if key == settings.SECRET_KEY:
        return [
            Error(
                "NUDGES_UNIT_HASH_KEY equals DJANGO_SECRET_KEY.",
                hint="Give the unit hash its own key: rotating the secret key would re-assign every visitor.",
                id="nudges.E002",
            )
        ]
    return []
