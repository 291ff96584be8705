"""The citizen's waiting-list form (``WaitlistForm``)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import cast

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.availability import at_local
from booking.dates import validate_date_window
from booking.models import Location, Product
from booking.web import AccessibleForm, NameField

ANY_LOCATION = "elke"


class WaitlistForm(AccessibleForm):
    """Joining the waiting list. Built from an appointment (``appointment``), the products and
    persons are the appointment's and the form asks only where, until when and the address."""

    products = forms.MultipleChoiceField(
        label=_("Waarvoor wilt u eerder terecht?"),
        help_text=_("U kunt meer dan één product kiezen; ze komen dan samen in één afspraak."),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Kies ten minste één product."),
            "invalid_choice": _("Kies een product uit de lijst."),
        },
    )
    persons = forms.TypedChoiceField(
        label=_("Voor hoeveel personen?"),
        coerce=int,
        initial=1,
        error_messages={"required": _("Kies het aantal personen."), "invalid_choice": _("Kies het aantal personen.")},
    )
    location = forms.ChoiceField(
        label=_("Bij welke vestiging?"),
        widget=forms.RadioSelect,
        initial=ANY_LOCATION,
        error_messages={"required": _("Kies een vestiging."), "invalid_choice": _("Kies een vestiging uit de lijst.")},
    )
    wanted_before = forms.DateField(
        label=_("Uiterlijk op"),
        validators=[validate_date_window],
        help_text=_("We bieden alleen tijden aan tot en met deze dag. Laat leeg als elke eerdere tijd goed is."),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Vul een geldige datum in, bijvoorbeeld 31-12-2027.")},
    )
    name = NameField(
        label=_("Naam"),
        max_length=150,
        error_messages={"required": _("Vul uw naam in.")},
        widget=forms.TextInput(attrs={"autocomplete": "name", "spellcheck": "false"}),
    )
    email = forms.EmailField(
        label=_("E-mailadres"),
        help_text=_(
            "Hierheen sturen we eerst een e-mail om uw aanmelding te bevestigen, en later een aanbod als er "
            "eerder een tijd vrijkomt."
        ),
        max_length=254,
        error_messages={
            "required": _("Vul uw e-mailadres in."),
            "invalid": _("Vul een geldig e-mailadres in, bijvoorbeeld naam@voorbeeld.nl."),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    consent = forms.BooleanField(
        label=_(
            "Ik wil een e-mail krijgen als er eerder een tijd vrijkomt. De gemeente bewaart mijn naam en "
            "e-mailadres zolang ik op de wachtlijst sta."
        ),
        error_messages={"required": _("Geef toestemming om u te mailen; anders kunnen we u geen tijd aanbieden.")},
    )

    def __init__(self, *args, products, locations, appointment=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.products_by_code = {p.code: p for p in products}
        self.locations_by_id = {str(loc.pk): loc for loc in locations}
        cast(forms.ChoiceField, self.fields["products"]).choices = [(p.code, p.name) for p in products]
        cast(forms.ChoiceField, self.fields["persons"]).choices = [
            (n, str(n)) for n in range(1, settings.BOOKING_MAX_PERSONS + 1)
        ]
        cast(forms.ChoiceField, self.fields["location"]).choices = [
            (ANY_LOCATION, _("Maakt niet uit: elke vestiging"))
        ] + [(str(loc.pk), loc.name) for loc in locations]
        if appointment is not None:
            # The appointment decides what for and for how many; its holder is known.
            for name in ("products", "persons", "name"):
                del self.fields[name]
            self.fields["wanted_before"].help_text = _(
                "We bieden alleen tijden aan vóór uw huidige afspraak, en tot en met deze dag als u die invult."
            )

    def clean_wanted_before(self) -> datetime | None:
        day = self.cleaned_data["wanted_before"]
        if day is None:
            return None
        if day < timezone.localdate():
            raise forms.ValidationError(_("Kies vandaag of een dag in de toekomst."), code="past")
        # "At the latest on" that day: every time before the next midnight, local time.
        return at_local(day + timedelta(days=1), time(0))

    def clean_location(self) -> Location | None:
        value = self.cleaned_data["location"]
        return None if value == ANY_LOCATION else self.locations_by_id[value]

    def product_options(self) -> list[tuple]:
        return [(option, self.products_by_code[option.data["value"]]) for option in self["products"]]

    def chosen_products(self) -> list[Product]:
        return [self.products_by_code[code] for code in self.cleaned_data.get("products", [])]
