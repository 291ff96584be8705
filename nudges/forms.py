"""Manager forms: an experiment's design and its variants. A started experiment's locked
fields are disabled here (and refused by the service and the model underneath). And the
citizen's waiting-list form (``WaitlistForm``)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.conf import settings
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from booking.availability import at_local
from booking.dates import validate_date_window
from booking.forms import AccessibleForm
from booking.models import Location, Product

from .constants import COMPARABLE_METRICS, Metric
from .models import Experiment, Intervention


class ExperimentForm(forms.ModelForm):
    products = forms.ModelMultipleChoiceField(
        queryset=Product.objects.filter(is_active=True).order_by("name_nl"),
        widget=forms.CheckboxSelectMultiple,
        label=_("Producten"),
    )
    primary_metric = forms.ChoiceField(
        label=_("Primaire maat"),
        choices=[("", "—")] + [(m.value, m.label) for m in COMPARABLE_METRICS],
        required=False,
        help_text=_("Eén maat, vooraf gekozen; alleen maten die ook in de controlegroep te meten zijn."),
    )
    guardrail_metrics = forms.MultipleChoiceField(
        label=_("Bewakingsmaten"),
        choices=Metric.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Experiment
        fields = [
            "name",
            "purpose_nl",
            "purpose_en",
            "touchpoint",
            "products",
            "hypothesis",
            "primary_metric",
            "guardrail_metrics",
            "planned_sample_per_variant",
            "planned_start",
            "planned_end",
            "conclusion_nl",
            "conclusion_en",
        ]
        widgets = {
            "purpose_nl": forms.Textarea(attrs={"rows": 3}),
            "purpose_en": forms.Textarea(attrs={"rows": 3}),
            "hypothesis": forms.Textarea(attrs={"rows": 3}),
            "conclusion_nl": forms.Textarea(attrs={"rows": 3}),
            "conclusion_en": forms.Textarea(attrs={"rows": 3}),
            "planned_start": forms.DateInput(attrs={"type": "date"}),
            "planned_end": forms.DateInput(attrs={"type": "date"}),
        }

    LOCKED = (*Experiment.LOCKED_FIELDS, "products", "planned_start")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("planned_start", "planned_end"):
            self.fields[name].validators.append(validate_date_window)
        if self.instance.pk and self.instance.is_locked:
            for name in self.LOCKED:
                if name in self.fields:
                    self.fields[name].disabled = True
                    self.fields[name].help_text = _("Ligt vast sinds de start.")


class VariantForm(forms.Form):
    key = forms.SlugField(label=_("Sleutel"), max_length=30)
    intervention = forms.ModelChoiceField(
        label=_("Interventie"),
        queryset=Intervention.objects.order_by("code"),
        required=False,
        empty_label=_("— controlgroep (geen nudge) —"),
    )
    weight = forms.IntegerField(label=_("Gewicht"), min_value=1, max_value=1000, initial=1)


VariantFormSet = formset_factory(VariantForm, extra=0, min_num=2, validate_min=True, can_delete=True)


class TransitionForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, a) for a in ("start", "pause", "resume", "finish")])
    conclusion_nl = forms.CharField(required=False, widget=forms.Textarea)


# --- Waiting list (citizen page) ---------------------------------------------------------------

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
    name = forms.CharField(
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
        self.fields["products"].choices = [(p.code, p.name) for p in products]
        self.fields["persons"].choices = [(n, str(n)) for n in range(1, settings.BOOKING_MAX_PERSONS + 1)]
        self.fields["location"].choices = [(ANY_LOCATION, _("Maakt niet uit: elke vestiging"))] + [
            (str(loc.pk), loc.name) for loc in locations
        ]
        if appointment is not None:
            # The appointment decides what for and for how many; its holder is known.
            for name in ("products", "persons", "name"):
                del self.fields[name]
            self.fields["wanted_before"].help_text = _(
                "We bieden alleen tijden aan vóór uw huidige afspraak, en tot en met deze dag als u die invult."
            )

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("Vul uw naam in."), code="required")
        return name

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
