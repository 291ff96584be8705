from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from booking import selectors as booking_selectors
from booking.constants import Channel
from booking.web import AccessibleForm
from nudges.channels.selectors import contact_channels

from .constants import BoundKind

# Which channels a bound can be set for: fees are per booking channel, contacts not handled
# per contact channel, satisfaction is asked after a visit (booking channel) and after a
# contact (contact channel); the other kinds are not per channel.
_BY_BOOKING_CHANNEL = {BoundKind.COST_RULE, BoundKind.SATISFACTION_FLOOR, BoundKind.SATISFACTION_GAP}
_BY_CONTACT_CHANNEL = {BoundKind.NOT_HANDLED, BoundKind.SATISFACTION_FLOOR, BoundKind.SATISFACTION_GAP}


class BoundForm(AccessibleForm):
    kind = forms.ChoiceField(label=_("Kader"), choices=BoundKind.choices)
    limit = forms.DecimalField(
        label=_("Grens"),
        min_value=0,
        max_digits=9,
        decimal_places=2,
        help_text=_("In de eenheid van het kader: werkdagen, dagen, procent, punten (1–5) of aantal."),
    )
    product_code = forms.ChoiceField(label=_("Product"), required=False)
    location_id = forms.TypedChoiceField(label=_("Vestiging"), required=False, coerce=int, empty_value=None)
    channel = forms.ChoiceField(
        label=_("Kanaal"),
        required=False,
        help_text=_(
            "Leges: een afspraakkanaal. Niet afgehandelde contacten: een contactkanaal. "
            "Tevredenheid: allebei. De andere kaders gelden voor alle kanalen."
        ),
    )
    is_active = forms.BooleanField(label=_("Actief"), required=False, initial=True)
    note = forms.CharField(label=_("Toelichting (bijvoorbeeld het raadsbesluit)"), required=False, max_length=300)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["product_code"]).choices = [("", _("Alle producten"))] + [
            (p.code, p.name) for p in booking_selectors.product_list()
        ]
        cast(forms.ChoiceField, self.fields["location_id"]).choices = [("", _("Alle vestigingen"))] + [
            (loc.pk, loc.name) for loc in booking_selectors.location_list()
        ]
        self.contact_codes = {c.code: c.name for c in contact_channels()}
        cast(forms.ChoiceField, self.fields["channel"]).choices = [
            ("", _("Alle kanalen")),
            (_("Afspraakkanalen"), Channel.choices),
            (_("Contactkanalen"), list(self.contact_codes.items())),
        ]

    def clean(self) -> dict:
        data = super().clean() or {}
        kind, channel = data.get("kind"), data.get("channel")
        if not kind or not channel:
            return data
        booking_ok = kind in _BY_BOOKING_CHANNEL and channel in Channel.values
        contact_ok = kind in _BY_CONTACT_CHANNEL and channel in self.contact_codes
        if booking_ok or contact_ok:
            return data
        if kind == BoundKind.COST_RULE:
            message = _("Leges gelden per afspraakkanaal: kies een afspraakkanaal of ‘Alle kanalen’.")
        elif kind == BoundKind.NOT_HANDLED:
            message = _(
                "Niet afgehandelde contacten tellen per contactkanaal: kies een contactkanaal of ‘Alle kanalen’."
            )
        else:
            message = _("Dit kader geldt voor alle kanalen: kies ‘Alle kanalen’.")
        self.add_error("channel", message)
        return data


class WhatIfForm(AccessibleForm):
    product = forms.ChoiceField(label=_("Product"))
    percent = forms.DecimalField(
        label=_("Percentage van de baliecontacten dat online gaat"),
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=1,
        help_text=_("Tussen 0 en 100."),
    )

    def __init__(self, *args, products: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["product"]).choices = products
