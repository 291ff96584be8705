"""Forms of the contact registration: input checks only; ``services`` decide the rest."""

from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from booking.selectors import product_list
from booking.web import AccessibleForm
from nudges.models import ContactOutcome, ScriptAnswer

from .selectors import contact_channels

GENERAL = ""
# The outcomes staff register by hand: an appointment counts itself (booking's hook) and an
# online completion is reported by the online channel.
STAFF_OUTCOMES = [
    (value, label)
    for value, label in ContactOutcome.choices
    if value not in (ContactOutcome.APPOINTMENT_MADE, ContactOutcome.COMPLETED_ONLINE)
]


class ContactRegisterForm(AccessibleForm):
    """Product, outcome, channel, minutes: radio groups a keyboard moves through with the arrow
    keys, with defaults for the common case (the role's channel, "answered"), so picking the
    product and pressing Enter registers a contact."""

    product = forms.ChoiceField(label=_("Waarover"), widget=forms.RadioSelect, required=False)
    outcome = forms.ChoiceField(label=_("Afloop"), choices=STAFF_OUTCOMES, widget=forms.RadioSelect)
    channel = forms.ModelChoiceField(
        label=_("Kanaal"), queryset=contact_channels(), widget=forms.RadioSelect, empty_label=None, to_field_name="code"
    )
    minutes = forms.IntegerField(
        label=_("Minuten"),
        required=False,
        min_value=0,
        max_value=480,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "size": 4}),
    )
    # The satisfaction question after a phone, e-mail or other non-counter contact: only with
    # the citizen's consent; the address goes to the survey row, never to the contact.
    survey_consent = forms.BooleanField(
        label=_("De inwoner wil één tevredenheidsvraag per e-mail over dit contact"),
        required=False,
        help_text=_("Vraag het eerst; alleen aanvinken als de inwoner ja zegt. Niet voor baliecontacten."),
    )
    survey_email = forms.EmailField(
        label=_("E-mailadres voor de vraag"),
        required=False,
        max_length=254,
        help_text=_(
            "Alleen om de vraag te sturen; wordt niet bij het contact bewaard en gewist zodra de e-mail weg is."
        ),
        error_messages={"invalid": _("Vul een geldig e-mailadres in.")},
    )
    next = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, default_channel: str = "", **kwargs) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("outcome", ContactOutcome.ANSWERED)
        kwargs["initial"].setdefault("product", GENERAL)
        if default_channel:
            kwargs["initial"].setdefault("channel", default_channel)
        super().__init__(*args, **kwargs)
        products = list(product_list().values_list("code", "name_nl", "name_en"))
        self.products = {code: code for code, _nl, _en in products}
        from django.utils.translation import get_language

        en = (get_language() or "nl").startswith("en")
        cast(forms.ChoiceField, self.fields["product"]).choices = [(GENERAL, _("Algemene vraag"))] + [
            (code, name_en if en else name_nl) for code, name_nl, name_en in products
        ]

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        if data.get("survey_email") and not data.get("survey_consent"):
            self.add_error(
                "survey_consent",
                _("Vink aan dat de inwoner de tevredenheidsvraag wil, of laat het e-mailadres leeg."),
            )
        if data.get("survey_consent") and not data.get("survey_email") and "survey_email" not in self.errors:
            self.add_error("survey_email", _("Vul het e-mailadres in om de tevredenheidsvraag te sturen."))
        return data


class CorrectionForm(AccessibleForm):
    """Bulk correction of one's own contacts of today."""

    ACTIONS = [("outcome", _("Afloop wijzigen")), ("channel", _("Kanaal wijzigen")), ("delete", _("Verwijderen"))]

    contacts = forms.TypedMultipleChoiceField(label=_("Contacten"), coerce=int, widget=forms.CheckboxSelectMultiple)
    action = forms.ChoiceField(label=_("Correctie"), choices=ACTIONS, widget=forms.RadioSelect)
    outcome = forms.ChoiceField(label=_("Nieuwe afloop"), choices=[("", "—"), *STAFF_OUTCOMES], required=False)
    channel = forms.ModelChoiceField(
        label=_("Nieuw kanaal"), queryset=contact_channels(), required=False, to_field_name="code"
    )

    def __init__(self, *args, contact_ids=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["contacts"]).choices = [(pk, str(pk)) for pk in contact_ids]

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        if data.get("action") == "outcome" and not data.get("outcome"):
            self.add_error("outcome", _("Kies de nieuwe afloop."))
        if data.get("action") == "channel" and not data.get("channel"):
            self.add_error("channel", _("Kies het nieuwe kanaal."))
        return data


class ScriptAnswerForm(AccessibleForm):
    """The caller's answer to the KCC work instruction, and where to send the online link."""

    SEND = [("", _("Niet sturen")), ("email", _("Per e-mail")), ("sms", _("Per sms"))]

    answer = forms.ChoiceField(
        label=_("Antwoord van de beller"), choices=ScriptAnswer.choices, widget=forms.RadioSelect
    )
    product = forms.CharField(widget=forms.HiddenInput)
    unit = forms.CharField(widget=forms.HiddenInput)
    send = forms.ChoiceField(label=_("Link naar het online formulier sturen"), choices=SEND, required=False)
    address = forms.CharField(
        label=_("Sturen naar (e-mail of mobiel nummer)"),
        required=False,
        max_length=254,
        help_text=_("Alleen om de link te sturen; wordt niet bij het contact bewaard."),
    )
    next = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        if data.get("send") and not data.get("address"):
            self.add_error("address", _("Vul het adres of nummer in om de link te sturen."))
        if data.get("send") and data.get("answer") != ScriptAnswer.WILL_DO_ONLINE:
            self.add_error("send", _("De link gaat alleen naar wie het online gaat doen."))
        return data


class CsvImportForm(AccessibleForm):
    system = forms.CharField(
        label=_("Systeem"),
        max_length=30,
        help_text=_(
            "Waar de export vandaan komt, bijvoorbeeld ‘mailtool’ of ‘whatsapp-inbox’. Zelfde systeem en kenmerk: niet dubbel geteld."
        ),
    )
    file = forms.FileField(
        label=_("CSV-bestand"),
        help_text=_(
            "Kolommen: external_id, channel, products (codes gescheiden door |), moment, outcome, "
            "handling_seconds. Hooguit 10 MB."
        ),
    )
