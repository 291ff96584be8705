"""Cleaning what people type, one way for every form, serializer and service that takes it.

Public: ``clean_name`` (a person's name as it may appear in a page, an e-mail or an SMS) and
``email_key`` (the address as the per-e-mail limit compares it).
"""

from __future__ import annotations

import unicodedata

# Line and paragraph breaks and tabs become a space; every other control, format (bidi
# overrides and isolates, zero-width characters), surrogate, private-use or unassigned
# character is dropped: a name is shown in official mail, and none of these belong in one.
_BREAKS = frozenset("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\u2028\u2029")
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})

# Providers that ignore dots in the local part (and the second name of the same mailbox).
_DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def clean_name(value: str | None) -> str:
    """``value`` without control, bidi and other invisible characters, on one line, with runs
    of white space made one space and no space at either end."""
    value = unicodedata.normalize("NFC", value or "")
    kept = (
        " " if char in _BREAKS else char
        for char in value
        if char in _BREAKS or unicodedata.category(char) not in _DROPPED_CATEGORIES
    )
    return " ".join("".join(kept).split())


def email_key(email: str | None) -> str:
    """The mailbox an address delivers to, as far as we can tell: lower case, without a
    ``+tag``, and for Gmail without dots and with one domain. Only for comparing; mail goes to
    the address as typed."""
    email = (email or "").strip().lower()
    local, at, domain = email.rpartition("@")
    if not at or not local:
        return email
    local = local.split("+", 1)[0] or local
    if domain in _DOTLESS_DOMAINS:
        domain = _DOTLESS_DOMAINS[domain]
        local = local.replace(".", "") or local
    return f"{local}@{domain}"
