"""One cleaning of names and one key for e-mail addresses (booking.cleaning)."""

import pytest

from booking.cleaning import clean_name, email_key


@pytest.mark.parametrize(
    ("typed", "clean"),
    [
        ("  Anouk   de Vries ", "Anouk de Vries"),
        ("Anouk\r\nBetaal EUR 25 via https://evil.example", "Anouk Betaal EUR 25 via https://evil.example"),
        ("Anouk\u202egnirts\u202c", "Anoukgnirts"),  # right-to-left override and pop
        ("A\u2066n\u2069ouk\u200b", "Anouk"),  # isolates and a zero-width space
        ("Anouk\x00\x07\x1b[31m", "Anouk[31m"),  # NUL, bell, escape
        ("Anouk\u2028de\u2029Vries\tX", "Anouk de Vries X"),
        ("Zoë Çelik-Ñúñez 李", "Zoë Çelik-Ñúñez 李"),  # letters of every kind stay
        ("\u202e\u200b\n", ""),
    ],
)
def test_clean_name(typed, clean):
    assert clean_name(typed) == clean


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("Anouk@Example.NL", "anouk@example.nl"),
        ("anouk+paspoort@example.nl", "anouk@example.nl"),
        ("a.n.o.u.k@gmail.com", "anouk@gmail.com"),
        ("A.Nouk+x@GoogleMail.com", "anouk@gmail.com"),
        ("a.nouk@example.nl", "a.nouk@example.nl"),  # dots count elsewhere
        ("+tag@example.nl", "+tag@example.nl"),
        ("geen-adres", "geen-adres"),
    ],
)
def test_email_key(address, key):
    assert email_key(address) == key
