"""Holds and appointments. A citizen's appointment is addressed by its secret manage token.

Taking a time (holds and bookings) is for integration clients with the ``appointments`` scope
(``booking.apis.auth``): an anonymous API booking would block a counter time for an address
nobody confirmed, which is how a day's times were hoarded. Citizens book on our own pages (with
per-session and per-client caps, ``booking.limits``); with the manage token anyone may look at,
move or cancel that one appointment."""

from collections.abc import Sequence

from django.conf import settings
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle, ScopedRateThrottle
from rest_framework.views import APIView

from booking import services
from booking.cleaning import clean_name
from booking.constants import Channel
from booking.dates import validate_date_window
from booking.integrations import SCOPE_APPOINTMENTS
from booking.selectors import appointment_get_by_token, location_get, products_by_codes

from .auth import HasIntegrationScope, IntegrationClientAuthentication, IntegrationClientThrottle

phone_validator = RegexValidator(
    r"^\+?[0-9 ()-]{6,20}$", _("Vul een geldig telefoonnummer in, bijvoorbeeld 06 12345678.")
)


class NameField(serializers.CharField):
    """A person's name, cleaned by ``booking.cleaning.clean_name``; empty after cleaning is blank."""

    def to_internal_value(self, data):
        value = clean_name(super().to_internal_value(data))
        if not value and not self.allow_blank:
            self.fail("blank")
        return value


class BookingRequestSerializer(serializers.Serializer):
    products = serializers.ListField(child=serializers.CharField(max_length=40), min_length=1, max_length=5)
    persons = serializers.IntegerField(min_value=1, default=1)
    location = serializers.IntegerField(min_value=1)
    start = serializers.DateTimeField(
        validators=[validate_date_window],
        help_text=_("Begintijd, ISO 8601; zonder UTC-verschil geldt Nederlandse tijd."),
    )

    def validate_persons(self, value):
        if value > settings.BOOKING_MAX_PERSONS:
            raise serializers.ValidationError(
                _("Maximaal %(max)s personen per afspraak.") % {"max": settings.BOOKING_MAX_PERSONS}
            )
        return value

    def to_domain(self) -> dict:
        """Resolve codes and ids to objects (raises field errors for unknown ones)."""
        data = self.validated_data
        return {
            "products": products_by_codes(data["products"]),
            "persons": data["persons"],
            "location": location_get(data["location"]),
            "start": data["start"],
        }


@extend_schema_serializer(component_name="Appointment")
class AppointmentOutputSerializer(serializers.Serializer):
    reference = serializers.CharField()
    manage_token = serializers.CharField()
    status = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    location = serializers.IntegerField(source="desk.location_id")
    products = serializers.SerializerMethodField()
    persons = serializers.IntegerField()

    def get_products(self, appointment) -> list[str]:
        # A view that has just written the appointment passes its products (no read back).
        products = self.context.get("products")
        if products is None:
            products = appointment.products.all()
        return [p.code for p in sorted(products, key=lambda product: product.name_nl)]


class BookingThrottleMixin:
    throttle_classes: Sequence[type[BaseThrottle]] = [ScopedRateThrottle]
    throttle_scope = "booking"


class IntegrationBookingApi(APIView):
    """Only an integration client with the ``appointments`` scope takes times through the API;
    requests per client per minute are limited, not per address."""

    authentication_classes = [IntegrationClientAuthentication]
    permission_classes = [HasIntegrationScope]
    throttle_classes = [IntegrationClientThrottle]
    integration_scope = SCOPE_APPOINTMENTS


class HoldCreateApi(IntegrationBookingApi):
    @extend_schema_serializer(component_name="HoldRequest")
    class InputSerializer(BookingRequestSerializer):
        pass

    @extend_schema_serializer(component_name="Hold")
    class OutputSerializer(serializers.Serializer):
        hold_token = serializers.CharField(source="manage_token")
        expires_at = serializers.DateTimeField(source="hold_expires_at")

    @extend_schema(
        summary=_("Tijd vasthouden"),
        description=_("Houdt een tijd kort vast (standaard 10 minuten) terwijl de inwoner gegevens invult."),
        request=InputSerializer,
        responses={201: OutputSerializer},
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        hold = services.appointment_hold(**serializer.to_domain(), channel=Channel.ONLINE)
        return Response(self.OutputSerializer(hold).data, status=status.HTTP_201_CREATED)


class AppointmentCreateApi(IntegrationBookingApi):
    @extend_schema_serializer(component_name="AppointmentRequest")
    class InputSerializer(BookingRequestSerializer):
        name = NameField(max_length=150)
        email = serializers.EmailField(max_length=254)
        phone = serializers.CharField(max_length=20, required=False, allow_blank=True, validators=[phone_validator])
        hold_token = serializers.CharField(max_length=64, required=False, allow_blank=True)

    @extend_schema(
        summary=_("Afspraak maken"),
        description=_(
            "Boekt een afspraak: bevestigt de eigen reservering (hold_token) of neemt de tijd direct. "
            "409 als de tijd niet meer vrij is, met maximaal drie alternatieven. Alleen voor koppelingen "
            "met het recht 'appointments' (Authorization: Bearer)."
        ),
        request=InputSerializer,
        responses={201: AppointmentOutputSerializer},
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data, request_for = serializer.validated_data, serializer.to_domain()
        appointment = services.appointment_book(
            **request_for,
            name=data["name"],
            email=data["email"],
            phone=data.get("phone", ""),
            hold_token=data.get("hold_token") or None,
            channel=Channel.ONLINE,
            source_client=request.auth,
            send_confirmation=request.auth.send_confirmation_emails,
        )
        answer = AppointmentOutputSerializer(appointment, context={"products": request_for["products"]})
        return Response(answer.data, status=status.HTTP_201_CREATED)


class AppointmentDetailApi(APIView):
    @extend_schema(summary=_("Afspraak bekijken"), responses={200: AppointmentOutputSerializer})
    def get(self, request, manage_token):
        return Response(AppointmentOutputSerializer(appointment_get_by_token(manage_token)).data)


class AppointmentCancelApi(BookingThrottleMixin, APIView):
    @extend_schema(
        summary=_("Afspraak annuleren"),
        request=None,
        responses={200: AppointmentOutputSerializer},
    )
    def post(self, request, manage_token):
        appointment = services.appointment_cancel(appointment=appointment_get_by_token(manage_token))
        return Response(AppointmentOutputSerializer(appointment).data)


class AppointmentRescheduleApi(BookingThrottleMixin, APIView):
    @extend_schema_serializer(component_name="RescheduleRequest")
    class InputSerializer(serializers.Serializer):
        start = serializers.DateTimeField()
        location = serializers.IntegerField(min_value=1, required=False)

    @extend_schema(
        summary=_("Afspraak verzetten"),
        description=_("Verzet de afspraak in één keer: de nieuwe tijd wordt genomen, of er verandert niets."),
        request=InputSerializer,
        responses={200: AppointmentOutputSerializer},
    )
    def post(self, request, manage_token):
        appointment = appointment_get_by_token(manage_token)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        location = location_get(data["location"]) if "location" in data else None
        appointment = services.appointment_reschedule(appointment=appointment, start=data["start"], location=location)
        return Response(AppointmentOutputSerializer(appointment).data)
