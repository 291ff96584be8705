from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from booking import selectors as booking_selectors
from booking.constants import Channel
from booking.web import AccessibleForm

from .constants import BoundKind


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
    channel = forms.ChoiceField(label=_("Kanaal"), required=False, choices=[("", _("Alle kanalen")), *Channel.choices])
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
