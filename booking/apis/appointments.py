"""Holds and appointments. A citizen's appointment is addressed by its secret manage token."""

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
from booking.constants import Channel
from booking.dates import validate_date_window
from booking.selectors import appointment_get_by_token, location_get, products_by_codes

phone_validator = RegexValidator(
    r"^\+?[0-9 ()-]{6,20}$", _("Vul een geldig telefoonnummer in, bijvoorbeeld 06 12345678.")
)


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
        return [p.code for p in appointment.products.all()]


class BookingThrottleMixin:
    throttle_classes: Sequence[type[BaseThrottle]] = [ScopedRateThrottle]
    throttle_scope = "booking"


class HoldCreateApi(BookingThrottleMixin, APIView):
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


class AppointmentCreateApi(BookingThrottleMixin, APIView):
    @extend_schema_serializer(component_name="AppointmentRequest")
    class InputSerializer(BookingRequestSerializer):
        name = serializers.CharField(max_length=150)
        email = serializers.EmailField(max_length=254)
        phone = serializers.CharField(max_length=20, required=False, allow_blank=True, validators=[phone_validator])
        hold_token = serializers.CharField(max_length=64, required=False, allow_blank=True)

    @extend_schema(
        summary=_("Afspraak maken"),
        description=_(
            "Boekt een afspraak: bevestigt de eigen reservering (hold_token) of neemt de tijd direct. "
            "409 als de tijd niet meer vrij is, met maximaal drie alternatieven."
        ),
        request=InputSerializer,
        responses={201: AppointmentOutputSerializer},
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        appointment = services.appointment_book(
            **serializer.to_domain(),
            name=data["name"],
            email=data["email"],
            phone=data.get("phone", ""),
            hold_token=data.get("hold_token") or None,
            channel=Channel.ONLINE,
        )
        return Response(AppointmentOutputSerializer(appointment).data, status=status.HTTP_201_CREATED)


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
