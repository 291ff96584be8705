"""For integration clients (e.g. the online form platform, another front end): the decision
for a unit, logging an exposure, reporting an outcome. Units are pseudonymous ids chosen by
the client (8–128 characters of ``A-Za-z0-9_.:-``); they are stored only as a keyed hash."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from booking.constants import Channel
from booking.selectors import products_by_codes
from nudges.constants import REPORTABLE_OUTCOMES, Source, Touchpoint
from nudges.exceptions import InvalidInput
from nudges.experiments import logs, selectors
from nudges.experiments.assignment import is_valid_unit_id, unit_hash
from nudges.models import Experiment

from .base import IntegrationApiView


class UnitField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 128)
        kwargs.setdefault("help_text", _("Pseudoniem eenheid-id van de koppeling (8–128 tekens A-Za-z0-9_.:-)."))
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not is_valid_unit_id(value):
            raise serializers.ValidationError(_("Ongeldige eenheid: 8–128 tekens A-Za-z0-9_.:-."))
        return value


def _experiment(experiment_id: int, *, field: str = "experiment") -> Experiment:
    experiment = selectors.experiment_list().filter(pk=experiment_id).first()
    if experiment is None:
        raise InvalidInput(_("Onbekend experiment."), field=field)
    return experiment


class DecisionApi(IntegrationApiView):
    class FilterSerializer(serializers.Serializer):
        product = serializers.CharField(max_length=40)
        unit = UnitField()
        touchpoint = serializers.ChoiceField(choices=Touchpoint.choices, default=Touchpoint.PRODUCT_CHOICE)
        channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.ONLINE)
        needs_help = serializers.BooleanField(default=False)

    @extend_schema_serializer(component_name="NudgeDecision")
    class OutputSerializer(serializers.Serializer):
        experiment = serializers.IntegerField(allow_null=True)
        variant = serializers.CharField(allow_null=True)
        exempt = serializers.BooleanField()
        exempt_reason = serializers.CharField(allow_null=True)
        content = serializers.JSONField(allow_null=True, help_text=_("null voor de controlegroep en uitzonderingen"))

    @extend_schema(
        summary=_("Nudge-beslissing voor een eenheid"),
        description=_(
            "Welk experiment en welke variant voor deze eenheid gelden, of waarom ze is uitgezonderd. "
            "Een uitzondering wordt hier gelogd; een blootstelling logt de koppeling zelf zodra ze de "
            "variant echt toont (POST exposures). content.online_url bevat de opaque referentie."
        ),
        parameters=[
            OpenApiParameter("product", str, required=True),
            OpenApiParameter("unit", str, required=True),
            OpenApiParameter("touchpoint", str, enum=Touchpoint.values),
            OpenApiParameter("channel", str, enum=Channel.values),
            OpenApiParameter("needs_help", bool),
        ],
        responses={200: OutputSerializer},
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        params = filters.validated_data
        products = products_by_codes([params["product"]], field="product")
        unit = unit_hash(params["unit"])
        decision = selectors.decide(
            products=products,
            unit_hash=unit,
            touchpoint=params["touchpoint"],
            channel=params["channel"],
            needs_help=params["needs_help"],
        )
        if decision.experiment is not None and decision.exempt_reason is not None:  # exempt from this one
            logs.exemption_log(
                experiment=decision.experiment, unit_hash=unit, reason=decision.exempt_reason, source=Source.API
            )
        content = None
        if decision.content is not None and decision.experiment is not None:
            content = decision.content.as_dict()
            # The opaque reference comes with the exposure (POST exposures), once the unit is exposed.
            content["online_url"] = decision.content.product.online_url
            content["why_url"] = request.build_absolute_uri(
                reverse("nudges:register") + f"#experiment-{decision.experiment.pk}"
            )
        return Response(
            self.OutputSerializer(
                {
                    "experiment": decision.experiment.pk if decision.experiment else None,
                    "variant": decision.variant.key if decision.variant else None,
                    "exempt": decision.exempt,
                    "exempt_reason": decision.exempt_reason,
                    "content": content,
                }
            ).data
        )


class ExposureCreateApi(IntegrationApiView):
    @extend_schema_serializer(component_name="NudgeExposureRequest")
    class InputSerializer(serializers.Serializer):
        experiment = serializers.IntegerField()
        variant = serializers.CharField(max_length=30)
        unit = UnitField()
        touchpoint = serializers.ChoiceField(choices=Touchpoint.choices)
        product = serializers.CharField(max_length=40, required=False)

    @extend_schema_serializer(component_name="NudgeExposure")
    class OutputSerializer(serializers.Serializer):
        experiment = serializers.IntegerField(source="experiment_id")
        variant = serializers.CharField(source="variant.key")
        exposed_at = serializers.DateTimeField()
        online_url = serializers.CharField(allow_null=True)

    @extend_schema(
        summary=_("Blootstelling loggen"),
        description=_(
            "De koppeling toonde de variant (ook de controlegroep: geen nudge). Eén per eenheid en experiment; "
            "nogmaals melden geeft 200. De variant moet de toegewezen variant zijn."
        ),
        request=InputSerializer,
        responses={201: OutputSerializer, 200: OutputSerializer},
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        experiment = _experiment(data["experiment"])
        if data["touchpoint"] != experiment.touchpoint:
            raise InvalidInput(_("Dit experiment hoort bij een ander moment."), field="touchpoint")
        variant = next((v for v in selectors.arms(experiment) if v.key == data["variant"]), None)
        if variant is None:
            raise InvalidInput(_("Onbekende variant."), field="variant")
        products = list(experiment.products.all())
        if "product" in data:
            product = next((p for p in products if p.code == data["product"]), None)
            if product is None:
                raise InvalidInput(_("Dit product hoort niet bij het experiment."), field="product")
        else:
            product = products[0]
        unit = unit_hash(data["unit"])
        exposure, created = logs.exposure_log(
            experiment=experiment, variant=variant, unit_hash=unit, product=product, source=Source.API
        )
        online_url = (
            None if variant.is_control else logs.online_url_for(experiment=experiment, unit_hash=unit, product=product)
        )
        output = {
            "experiment_id": exposure.experiment_id,
            "variant": exposure.variant,
            "exposed_at": exposure.exposed_at,
            "online_url": online_url,
        }
        return Response(
            self.OutputSerializer(output).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class OutcomeCreateApi(IntegrationApiView):
    @extend_schema_serializer(component_name="NudgeOutcomeRequest")
    class InputSerializer(serializers.Serializer):
        reference = serializers.CharField(max_length=32, required=False, help_text=_("De opaque referentie (kw_ref)."))
        unit = UnitField(required=False)
        experiment = serializers.IntegerField(required=False)
        product = serializers.CharField(
            max_length=40, required=False, help_text=_("Alleen bij completed_online zonder referentie of eenheid.")
        )
        kind = serializers.ChoiceField(choices=REPORTABLE_OUTCOMES)

        def validate(self, attrs):
            if attrs.get("reference") and attrs.get("unit"):
                raise serializers.ValidationError({"unit": [_("Geef een referentie of een eenheid, niet beide.")]})
            return attrs

    @extend_schema_serializer(component_name="NudgeOutcomes")
    class OutputSerializer(serializers.Serializer):
        recorded = serializers.ListField(child=serializers.DictField())

    @extend_schema(
        summary=_("Uitkomst melden"),
        description=_(
            "Het online kanaal meldt bijvoorbeeld completed_online met de opaque referentie uit de URL "
            "(kw_ref). 'abandoned' wordt berekend en kan niet gemeld worden. Eenmaal per eenheid en soort."
        ),
        request=InputSerializer,
        responses={201: OutputSerializer},
    )
    def post(self, request):
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        product = products_by_codes([data["product"]], field="product")[0] if data.get("product") else None
        outcomes = logs.outcome_report(
            kind=data["kind"],
            unit_hash=unit_hash(data["unit"]) if data.get("unit") else None,
            reference=data.get("reference"),
            experiment=_experiment(data["experiment"]) if data.get("experiment") else None,
            product=product,
        )
        recorded = [{"experiment": o.experiment_id, "kind": o.kind} for o in outcomes]
        return Response(self.OutputSerializer({"recorded": recorded}).data, status=status.HTTP_201_CREATED)
