"""Phone numbers, read with Google's libphonenumber (the ``phonenumbers`` package)."""

from __future__ import annotations

import phonenumbers
from django.conf import settings

_MOBILE_TYPES = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


def phone_normalise(raw: str, *, mobile_only: bool = False) -> str | None:
    """``raw`` as E.164 (``+31612345678``), read as a Dutch number unless it starts with a
    country code; None when it is not a valid number (or, with ``mobile_only``, not one we
    send an SMS to: a mobile number of a country in ``SMS_COUNTRIES``, by default only Dutch
    ones, so nobody can make the gateway text premium or far-away numbers)."""
    if not raw or len(raw) > 40:
        return None
    try:
        number = phonenumbers.parse(raw, "NL")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    if mobile_only and (
        phonenumbers.number_type(number) not in _MOBILE_TYPES
        or phonenumbers.region_code_for_number(number) not in settings.SMS_COUNTRIES
    ):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
