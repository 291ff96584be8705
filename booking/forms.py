"""Forms of the citizen pages: input checks only; the services decide what is possible.

A domain error becomes a form error in one place, ``booking.web.add_domain_error``; the
accessible form base all of them build on is ``booking.web.AccessibleForm``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import cast

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .dates import datetime_parse
from .models import Location, Product
from .phones import phone_normalise
from .web import AccessibleForm, NameField

PHONE_RE = re.compile(r"^\+?[0-9 ()\-]+$")


class ProductsForm(AccessibleForm):
    products = forms.MultipleChoiceField(
        label=_("Waarvoor wilt u een afspraak maken?"),
        help_text=_("U kunt meer dan één product kiezen."),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Kies ten minste één product."),
            "invalid_choice": _("Kies een product uit de lijst."),
        },
    )
    persons = forms.TypedChoiceField(
        label=_("Voor hoeveel personen?"),
        help_text=_(
            "Komen er meer mensen voor hetzelfde, bijvoorbeeld uw kinderen? Dan maken we één langere afspraak."
        ),
        coerce=int,
        initial=1,
        error_messages={"required": _("Kies het aantal personen."), "invalid_choice": _("Kies het aantal personen.")},
    )

    needs_help = forms.BooleanField(
        label=_("Ik heb hulp nodig of kan dit niet online regelen"),
        help_text=_("Dan gaat u meteen door naar een afspraak aan de balie."),
        required=False,
    )

    def __init__(self, *args, products: Iterable[Product], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.products_by_code = {p.code: p for p in products}
        cast(forms.ChoiceField, self.fields["products"]).choices = [(p.code, p.name) for p in products]
        cast(forms.ChoiceField, self.fields["persons"]).choices = [
            (n, str(n)) for n in range(1, settings.BOOKING_MAX_PERSONS + 1)
        ]

    def product_options(self) -> list[tuple]:
        """(checkbox, product) pairs, to show each product's duration and fee next to it."""
        return [(option, self.products_by_code[option.data["value"]]) for option in self["products"]]


class LocationForm(AccessibleForm):
    location = forms.TypedChoiceField(
        label=_("Bij welke vestiging wilt u langskomen?"),
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": _("Kies een vestiging."), "invalid_choice": _("Kies een vestiging uit de lijst.")},
    )

    def __init__(self, *args, locations: Sequence[Location], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.locations_by_id = {loc.pk: loc for loc in locations}
        cast(forms.ChoiceField, self.fields["location"]).choices = [(loc.pk, loc.name) for loc in locations]

    def location_options(self) -> list[tuple]:
        return [(option, self.locations_by_id[int(option.data["value"])]) for option in self["location"]]


class TimeForm(AccessibleForm):
    """The chosen start time; the radios are drawn by the time picker template."""

    start = forms.CharField(
        label=_("Tijd"), max_length=40, error_messages={"required": _("Kies een tijd waarop u wilt komen.")}
    )
    anchors = {"start": "kies-tijd"}

    def clean_start(self) -> datetime:
        start = datetime_parse(self.cleaned_data["start"])
        if start is None or timezone.is_naive(start):
            raise forms.ValidationError(_("Kies een tijd uit de lijst."), code="invalid")
        return start


class DetailsForm(AccessibleForm):
    name = NameField(
        label=_("Naam"),
        max_length=150,
        error_messages={"required": _("Vul uw naam in.")},
        widget=forms.TextInput(attrs={"autocomplete": "name", "spellcheck": "false"}),
    )
    email = forms.EmailField(
        label=_("E-mailadres"),
        help_text=_("Hier sturen we de bevestiging naartoe, met een link om de afspraak te wijzigen."),
        max_length=254,
        error_messages={
            "required": _("Vul uw e-mailadres in."),
            "invalid": _("Vul een geldig e-mailadres in, bijvoorbeeld naam@voorbeeld.nl."),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    phone = forms.CharField(
        label=_("Telefoonnummer"),
        help_text=_("Alleen nodig als u een herinnering per sms wilt."),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )
    remind_by_email = forms.BooleanField(label=_("Stuur mij een herinnering per e-mail"), required=False, initial=True)
    remind_by_sms = forms.BooleanField(label=_("Stuur mij een herinnering per sms"), required=False)

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        digits = re.sub(r"\D", "", phone)
        if phone and (not PHONE_RE.match(phone) or not 9 <= len(digits) <= 15):
            raise forms.ValidationError(
                _("Vul een geldig telefoonnummer in, bijvoorbeeld 06 12345678."), code="invalid"
            )
        return phone

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("remind_by_sms") and "phone" not in self.errors:
            if not cleaned.get("phone"):
                self.add_error("phone", _("Vul uw telefoonnummer in als u een herinnering per sms wilt."))
            elif phone_normalise(cleaned["phone"], mobile_only=True) is None:
                self.add_error(
                    "phone",
                    _("Voor een herinnering per sms hebben we een mobiel nummer nodig, bijvoorbeeld 06 12345678."),
                )
        return cleaned
