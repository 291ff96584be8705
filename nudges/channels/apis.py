"""The contacts API for channel systems (telephony platform, e-mail/CRM tool, WhatsApp and
social media inbox, online forms platform): ``POST /api/v1/contacts/`` (one contact) and
``POST /api/v1/contacts/batch/`` (up to 5,000). Authenticated as a ``booking.IntegrationClient``
with the ``contacts`` scope; idempotent by (client, ``external_id``)."""

from __future__ import annotations

from typing import Any

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from booking.apis.auth import HasIntegrationScope, IntegrationClientAuthentication, IntegrationClientThrottle
from nudges.exceptions import NudgeError
from nudges.models import ContactOutcome

from .services import MAX_BATCH, ContactInput, ContactsRejected, client_source, contacts_import

SCOPE_CONTACTS = "contacts"
# A batch of 5,000 contacts is about 1 MB of JSON; anything far bigger is refused unread.
MAX_BODY_BYTES = 8 * 1024 * 1024


class ContactSerializer(serializers.Serializer):
    external_id = serializers.CharField(
        max_length=100, help_text=_("Het eigen kenmerk van het contact in uw systeem (voor idempotentie).")
    )
    channel = serializers.CharField(max_length=30, help_text=_("Kanaalcode, bijvoorbeeld telefoon, e-mail, whatsapp."))
    products = serializers.ListField(
        child=serializers.CharField(max_length=40),
        max_length=10,
        default=list,
        help_text=_("Productcodes; leeg voor een algemene vraag."),
    )
    moment = serializers.DateTimeField(help_text=_("Wanneer het contact was, met tijdzone; niet in de toekomst."))
    outcome = serializers.ChoiceField(choices=ContactOutcome.choices)
    handling_seconds = serializers.IntegerField(min_value=0, max_value=8 * 3600, required=False, allow_null=True)


_FIELDS = {"external_id", "channel", "products", "moment", "outcome", "handling_seconds"}


def parse_row(row) -> tuple[dict, dict[str, list[str]]]:
    """The batch's rows are checked here rather than by ``ContactSerializer`` one by one: the
    same rules (the schema documents them), a tenth of the time for thousands of rows."""
    if not isinstance(row, dict):
        return {}, {"non_field_errors": [str(_("Verwacht een object per contact."))]}
    problems: dict[str, list[str]] = {}
    unknown = sorted(set(row) - _FIELDS)
    if unknown:
        problems["non_field_errors"] = [str(_("Onbekend veld: %(names)s.") % {"names": ", ".join(unknown)[:100]})]
    required = str(_("Dit veld is verplicht."))
    text = str(_("Geef een tekst van hooguit %(n)d tekens."))
    data: dict = {}
    for name, limit in (("external_id", 100), ("channel", 30), ("outcome", 20)):
        value = row.get(name)
        if value in (None, ""):
            problems[name] = [required]
        elif not isinstance(value, str) or len(value) > limit:
            problems[name] = [text % {"n": limit}]
        else:
            data[name] = value
    if "outcome" in data and data["outcome"] not in ContactOutcome.values:
        problems["outcome"] = [str(_("Onbekende afloop: %(value)s.") % {"value": data["outcome"]})]
    products = row.get("products", [])
    if (
        not isinstance(products, list)
        or len(products) > 10
        or not all(isinstance(p, str) and len(p) <= 40 for p in products)
    ):
        problems["products"] = [str(_("Geef een lijst van hooguit tien productcodes."))]
    else:
        data["products"] = products
    moment = parse_datetime(row["moment"]) if isinstance(row.get("moment"), str) else None
    if moment is None:
        problems["moment"] = [str(_("Geef een datum en tijd in ISO 8601 met tijdzone."))]
    else:
        data["moment"] = moment
    seconds = row.get("handling_seconds")
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, int)):
        problems["handling_seconds"] = [str(_("Geef een geheel aantal seconden."))]
    else:
        data["handling_seconds"] = seconds
    return data, problems


def _to_input(data: dict) -> ContactInput:
    return ContactInput(
        channel=data["channel"],
        products=data.get("products") or [],
        moment=data["moment"],
        outcome=data["outcome"],
        handling_seconds=data.get("handling_seconds"),
        external_id=data["external_id"],
    )


class RowErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text=_("Rij in de aanvraag, vanaf 0."))
    external_id = serializers.CharField(allow_blank=True)
    # The API's name; DRF's metaclass takes declared fields out of the class, so this does not
    # shadow Serializer.fields at run time (the stubs cannot express that).
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField())
    )


class RejectedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
    # As ``fields`` above: a declared field, not Serializer.errors at run time.
    errors = RowErrorSerializer(many=True)  # type: ignore[assignment]


class ResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text=_("Nieuw opgeslagen."))
    unchanged = serializers.IntegerField(help_text=_("Al bekend (zelfde external_id): niets veranderd."))


EXAMPLE_CONTACT = {
    "external_id": "tel-2026-12-07-000123",
    "channel": "telefoon",
    "products": ["uittreksel-brp"],
    "moment": "2026-12-07T10:15:00+01:00",
    "outcome": "answered",
    "handling_seconds": 292,
}


def _rejected(rows: list[dict], errors: dict[int, dict[str, list[str]]]) -> Response:
    body = {
        "detail": str(_("%(n)d rij(en) ongeldig; niets opgeslagen.") % {"n": len(errors)}),
        "code": "contacts_rejected",
        "errors": [
            {
                "index": index,
                "external_id": str(
                    (rows[index] if index < len(rows) and isinstance(rows[index], dict) else {}).get("external_id", "")
                )[:100],
                "fields": {name: [str(m) for m in messages] for name, messages in fields.items()},
            }
            for index, fields in sorted(errors.items())
        ],
    }
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


class _ContactsApi(APIView):
    authentication_classes = [IntegrationClientAuthentication]
    permission_classes = [HasIntegrationScope]
    throttle_classes = [IntegrationClientThrottle]
    integration_scope = SCOPE_CONTACTS

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES:
            raise ValidationError({"contacts": [_("Te groot: stuur hooguit 5.000 contacten per aanvraag.")]})

    def _store(self, request, rows: list, validated: list[dict]) -> Response:
        client = request.auth
        try:
            result = contacts_import(
                rows=[_to_input(item) for item in validated], source=client_source(client.pk), client_id=client.pk
            )
        except ContactsRejected as rejected:
            return _rejected(rows, rejected.errors)
        except NudgeError as error:
            raise ValidationError({error.field or "contacts": [str(error.message)]}) from error
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(ResultSerializer(result).data, status=code)


class ContactCreateApi(_ContactsApi):
    @extend_schema(
        summary=_("Eén contact melden"),
        description=_(
            "Een contact op een kanaal (telefoon, e-mail, whatsapp, …), zonder persoonsgegevens. Nogmaals "
            "melden met hetzelfde external_id verandert niets (200). Vereist het recht 'contacts'."
        ),
        request=ContactSerializer,
        responses={201: ResultSerializer, 200: ResultSerializer, 400: RejectedSerializer},
        examples=[OpenApiExample("Telefoongesprek", value=EXAMPLE_CONTACT, request_only=True)],
        tags=["contacts"],
    )
    def post(self, request):
        serializer = ContactSerializer(data=request.data)
        if not serializer.is_valid():
            return _rejected([request.data], {0: serializer.errors})
        return self._store(request, [request.data], [serializer.validated_data])


@extend_schema_serializer(component_name="ContactBatchRequest")
class BatchSerializer(serializers.Serializer):
    """For the schema; the view checks the list itself and validates the rows one by one."""

    contacts: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=ContactSerializer(), max_length=MAX_BATCH
    )


class ContactBatchCreateApi(_ContactsApi):
    @extend_schema(
        summary=_("Contacten in een batch melden"),
        description=_(
            "Tot 5.000 contacten in één aanvraag. Alles of niets: met één ongeldige rij wordt niets opgeslagen "
            "en zegt het antwoord per rij wat er mis is. Al bekende external_id's worden overgeslagen."
        ),
        request=BatchSerializer,
        responses={201: ResultSerializer, 200: ResultSerializer, 400: RejectedSerializer},
        examples=[
            OpenApiExample(
                "Twee contacten",
                value={
                    "contacts": [
                        EXAMPLE_CONTACT,
                        {
                            "external_id": "wa-88412",
                            "channel": "whatsapp",
                            "products": [],
                            "moment": "2026-12-07T10:17:00+01:00",
                            "outcome": "referred_online",
                        },
                    ]
                },
                request_only=True,
            ),
            OpenApiExample(
                "Afgewezen",
                value={
                    "detail": "1 rij(en) ongeldig; niets opgeslagen.",
                    "code": "contacts_rejected",
                    "errors": [
                        {"index": 1, "external_id": "wa-88412", "fields": {"channel": ["Onbekend kanaal: wa."]}}
                    ],
                },
                response_only=True,
                status_codes=["400"],
            ),
        ],
        tags=["contacts"],
    )
    def post(self, request):
        rows = request.data.get("contacts") if isinstance(request.data, dict) else None
        if not isinstance(rows, list) or not rows:
            raise ValidationError({"contacts": [_("Geef een lijst met ten minste één contact.")]})
        if len(rows) > MAX_BATCH:
            raise ValidationError({"contacts": [_("Hooguit %(n)d contacten per keer.") % {"n": MAX_BATCH}]})
        validated, errors = [], {}
        for index, row in enumerate(rows):
            data, problems = parse_row(row)
            if problems:
                errors[index] = problems
            else:
                validated.append(data)
        if errors:
            return _rejected(rows, errors)
        return self._store(request, rows, validated)
