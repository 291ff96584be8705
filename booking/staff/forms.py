"""Forms of the staff pages: input checks only; ``booking.staff.services`` decide what is
possible. A domain error becomes a form error in ``booking.web.add_domain_error``."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import cast

from django import forms
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.availability import local_tz
from booking.constants import OnlinePossible, OnlineReason
from booking.dates import datetime_parse, day_parse, validate_date_window
from booking.models import Desk, Location, OpeningHours, Product
from booking.web import AccessibleForm, NameField

DATE_WIDGET = {"type": "date"}
TIME_WIDGET = {"type": "time", "step": "300"}


class StaffForm(AccessibleForm):
    """Staff forms get the same wiring as the citizen forms: hints and errors tied to their
    inputs (aria-describedby) and an error summary linking to the fields."""


def _date_field(label, **kwargs) -> forms.DateField:
    return forms.DateField(
        label=label,
        validators=[validate_date_window],
        widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d"),
        error_messages={"invalid": _("Vul een geldige datum in."), "required": _("Vul een datum in.")},
        **kwargs,
    )


def _time_field(label, **kwargs) -> forms.TimeField:
    return forms.TimeField(
        label=label,
        widget=forms.TimeInput(attrs=TIME_WIDGET, format="%H:%M"),
        error_messages={
            "invalid": _("Vul een geldige tijd in, bijvoorbeeld 09:00."),
            "required": _("Vul een tijd in."),
        },
        **kwargs,
    )


def _persons_choices() -> list[tuple[int, str]]:
    return [(n, str(n)) for n in range(1, settings.BOOKING_MAX_PERSONS + 1)]


# --- day board ------------------------------------------------------------------------------


class BoardFilterForm(StaffForm):
    location = forms.ModelChoiceField(
        label=_("Vestiging"),
        queryset=Location.objects.filter(is_active=True).order_by("name"),
        empty_label=None,
        error_messages={"invalid_choice": _("Kies een vestiging uit de lijst.")},
    )
    day = _date_field(_("Datum"))


class ServedForm(StaffForm):
    online_possible = forms.ChoiceField(
        label=_("Had dit bezoek online gekund?"),
        choices=OnlinePossible.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Kies of dit bezoek online had gekund.")},
    )
    online_reason = forms.ChoiceField(
        label=_("Reden"),
        choices=[("", _("(geen reden)")), *OnlineReason.choices],
        required=False,
    )


class WalkInForm(StaffForm):
    product = forms.ModelChoiceField(
        label=_("Product"),
        queryset=Product.objects.none(),
        empty_label=_("Kies een product"),
        error_messages={"required": _("Kies een product."), "invalid_choice": _("Kies een product uit de lijst.")},
    )
    persons = forms.TypedChoiceField(label=_("Personen"), coerce=int, initial=1)
    name = NameField(label=_("Naam"), max_length=150, required=False)
    desk = forms.ModelChoiceField(
        label=_("Balie"),
        queryset=Desk.objects.none(),
        required=False,
        empty_label=_("Eerste vrije balie"),
        error_messages={"invalid_choice": _("Kies een balie uit de lijst.")},
    )
    online_possible = forms.ChoiceField(
        label=_("Had dit bezoek online gekund?"),
        help_text=_("Alleen bij 'direct geholpen'."),
        choices=[("", _("(nog niet bekend)")), *OnlinePossible.choices],
        required=False,
    )
    online_reason = forms.ChoiceField(
        label=_("Reden"), choices=[("", _("(geen reden)")), *OnlineReason.choices], required=False
    )

    def __init__(self, *args, location: Location, **kwargs) -> None:
        super().__init__(*args, prefix="inloop", **kwargs)
        cast(forms.ModelChoiceField, self.fields["product"]).queryset = (
            Product.objects.filter(is_active=True, desks__location=location, desks__is_active=True)
            .distinct()
            .order_by("name_nl")
        )
        cast(forms.ModelChoiceField, self.fields["desk"]).queryset = Desk.objects.filter(
            location=location, is_active=True
        ).order_by("name")
        cast(forms.ChoiceField, self.fields["persons"]).choices = _persons_choices()


# --- phone ----------------------------------------------------------------------------------


class SearchForm(StaffForm):
    q = forms.CharField(
        label=_("Referentie, naam of e-mailadres"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "spellcheck": "false", "autocomplete": "off"}),
    )
    day = _date_field(_("Datum van de afspraak"), required=False)

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        if not self.errors and not (cleaned.get("q") or "").strip() and not cleaned.get("day"):
            raise forms.ValidationError(_("Vul een referentie, naam, e-mailadres of datum in."))
        return cleaned


class SlotSearchForm(StaffForm):
    """What the caller wants: products, persons, location, day (GET)."""

    products = forms.ModelMultipleChoiceField(
        label=_("Product(en)"),
        queryset=Product.objects.filter(is_active=True).order_by("name_nl"),
        to_field_name="code",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Kies ten minste één product.")},
    )
    persons = forms.TypedChoiceField(label=_("Personen"), coerce=int, initial=1)
    location = forms.ModelChoiceField(
        label=_("Vestiging"),
        queryset=Location.objects.filter(is_active=True).order_by("name"),
        empty_label=None,
        error_messages={"invalid_choice": _("Kies een vestiging uit de lijst.")},
    )
    day = _date_field(_("Datum"))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["persons"]).choices = _persons_choices()


class StartForm(StaffForm):
    """The chosen start time (radios drawn by the template)."""

    start = forms.CharField(label=_("Tijd"), max_length=40, error_messages={"required": _("Kies een tijd.")})

    def clean_start(self) -> datetime:
        start = datetime_parse(self.cleaned_data["start"])
        if start is None or timezone.is_naive(start):
            raise forms.ValidationError(_("Kies een tijd uit de lijst."))
        return start


class PhoneBookingForm(StartForm):
    name = NameField(label=_("Naam van de beller"), max_length=150, error_messages={"required": _("Vul de naam in.")})
    email = forms.EmailField(
        label=_("E-mailadres"),
        help_text=_("Voor de bevestiging met de link om de afspraak te wijzigen."),
        error_messages={"required": _("Vul het e-mailadres in."), "invalid": _("Vul een geldig e-mailadres in.")},
        widget=forms.EmailInput(attrs={"spellcheck": "false", "autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Telefoonnummer"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    language = forms.ChoiceField(label=_("Taal van de berichten"), choices=settings.LANGUAGES, initial="nl")
    remind_by_email = forms.BooleanField(label=_("Herinnering per e-mail sturen"), required=False, initial=True)


# --- schedules ------------------------------------------------------------------------------


class OpeningHoursForm(StaffForm):
    desk = forms.ModelChoiceField(label=_("Balie"), queryset=Desk.objects.none(), empty_label=None)
    weekday = forms.TypedChoiceField(label=_("Weekdag"), coerce=int, choices=OpeningHours.Weekday.choices)
    opens = _time_field(_("Open vanaf"))
    closes = _time_field(_("Open tot"))
    valid_from = _date_field(_("Geldig vanaf"))
    valid_until = _date_field(_("Geldig tot en met"), required=False)

    def __init__(self, *args, location: Location, **kwargs) -> None:
        super().__init__(*args, prefix="uren", **kwargs)
        cast(forms.ModelChoiceField, self.fields["desk"]).queryset = Desk.objects.filter(location=location).order_by(
            "name"
        )


class OpeningHoursEndForm(StaffForm):
    valid_until = _date_field(_("Laatste dag"))


class DeskProductsForm(StaffForm):
    products = forms.ModelMultipleChoiceField(
        label=_("Producten"),
        queryset=Product.objects.filter(is_active=True).order_by("name_nl"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args, desk: Desk, **kwargs) -> None:
        super().__init__(*args, prefix=f"balie{desk.pk}", **kwargs)


class ClosureForm(StaffForm):
    desk = forms.ModelChoiceField(
        label=_("Wat sluit"),
        queryset=Desk.objects.none(),
        required=False,
        empty_label=_("De hele vestiging"),
        error_messages={"invalid_choice": _("Kies een balie uit de lijst.")},
    )
    start_date = _date_field(_("Van (datum)"))
    start_time = _time_field(_("Van (tijd)"), required=False)
    end_date = _date_field(_("Tot en met (datum)"))
    end_time = _time_field(_("Tot (tijd)"), required=False)
    reason = forms.CharField(
        label=_("Reden"),
        max_length=200,
        help_text=_("Komt in het bericht aan de inwoners, bijvoorbeeld: storing in het systeem."),
        error_messages={"required": _("Geef een reden op.")},
    )

    def __init__(self, *args, location: Location, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["desk"]).queryset = Desk.objects.filter(location=location).order_by(
            "name"
        )

    def clean(self) -> dict:
        super().clean()
        cleaned = self.cleaned_data
        start_date, end_date = cleaned.get("start_date"), cleaned.get("end_date")
        if start_date and end_date:
            tz = local_tz()
            starts_at = datetime.combine(start_date, cleaned.get("start_time") or time.min, tzinfo=tz)
            end_time = cleaned.get("end_time")
            ends_at = (
                datetime.combine(end_date, end_time, tzinfo=tz)
                if end_time
                else datetime.combine(end_date + timedelta(days=1), time.min, tzinfo=tz)
            )
            if ends_at <= starts_at:
                self.add_error("end_date", _("Het einde moet na het begin liggen."))
            cleaned["starts_at"], cleaned["ends_at"] = starts_at, ends_at
        return cleaned


class HolidayForm(StaffForm):
    note = forms.CharField(label=_("Toelichting"), max_length=200, required=False)


# --- products -------------------------------------------------------------------------------

PRODUCT_FIELDS = [
    "code",
    "name_nl",
    "name_en",
    "minutes_per_person",
    "buffer_minutes",
    "requires_presence",
    "booking_horizon_days",
    "min_notice_minutes",
    "reminder_days",
    "fee_counter",
    "cost_counter",
    "fee_online",
    "cost_online",
    "fee_phone",
    "cost_phone",
    "fee_post",
    "cost_post",
    "online_url",
    "online_requirements_nl",
    "online_requirements_en",
    "online_requires_digid",
    "online_requires_payment",
    "description_nl",
    "description_en",
    "checklist_nl",
    "checklist_en",
    "kcc_text_nl",
    "kcc_text_en",
    "is_active",
]
PRICE_ROWS = [
    ("counter", _("Balie")),
    ("online", _("Online")),
    ("phone", _("Telefoon")),
    ("post", _("Post")),
]


def _formfield(model_field, **kwargs):
    if isinstance(model_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return model_field.formfield(**kwargs)


class ProductForm(StaffForm):
    """The product's fields (from the model, without its database checks: the service checks
    the price rules and each broken rule is shown next to its field)."""

    def __init__(self, *args, product: Product | None = None, **kwargs) -> None:
        if product is not None:
            kwargs.setdefault("initial", forms.model_to_dict(product, fields=PRODUCT_FIELDS))
        super().__init__(*args, **kwargs)
        self.product = product
        self.fields.update(forms.fields_for_model(Product, fields=PRODUCT_FIELDS, formfield_callback=_formfield))
        for name, field in self.fields.items():
            if name.startswith(("fee_", "cost_")):
                field.widget.attrs.update({"inputmode": "decimal", "class": "input--short"})
                field.help_text = ""
            if name.endswith(("_minutes", "_days", "_person")):
                field.widget.attrs["class"] = "input--short"
            if name.startswith(("online_requirements", "description", "checklist", "kcc_text")):
                field.widget.attrs["rows"] = 3
        if product is not None:
            self.fields["code"].disabled = True
        self._wire_descriptions()

    def price_rows(self) -> list[tuple]:
        return [(label, self[f"fee_{channel}"], self[f"cost_{channel}"]) for channel, label in PRICE_ROWS]

    def values(self) -> dict:
        values = {name: self.cleaned_data[name] for name in PRODUCT_FIELDS}
        if self.product is not None:
            values.pop("code")
        return values

    def clean_code(self) -> str:
        code = self.cleaned_data["code"]
        if self.product is None and Product.objects.filter(code=code).exists():
            raise forms.ValidationError(_("Er bestaat al een product met deze code."))
        return code

    def clean(self) -> dict:
        from .services import product_price_problems

        super().clean()
        cleaned = self.cleaned_data
        for name, message in product_price_problems(cleaned).items():
            if name not in self.errors:
                self.add_error(name, message)
        return cleaned


def parse_day(value: str | None, default: date) -> date:
    return day_parse(value) or default
