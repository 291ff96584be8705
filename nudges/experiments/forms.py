"""Manager forms: an experiment's design and its variants. A started experiment's locked
fields are disabled here (and refused by the service and the model underneath)."""

from __future__ import annotations

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from booking.dates import validate_date_window
from booking.models import Product
from nudges.constants import COMPARABLE_METRICS, Metric
from nudges.models import Experiment, Intervention


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
