"""Experiment results for managers (session login with ``nudges.manage_experiments``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.response import Response

from nudges.experiments import selectors, services

from .base import CanManageExperiments, NudgeApiView


class ArmSerializer(serializers.Serializer):
    variant = serializers.CharField(source="key")
    is_control = serializers.BooleanField()
    weight = serializers.IntegerField()
    exposures = serializers.IntegerField(source="n")
    conversions = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True)
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)
    diff = serializers.FloatField(allow_null=True, help_text=_("Verschil met controle (fractie)"))
    diff_ci_low = serializers.FloatField(allow_null=True)
    diff_ci_high = serializers.FloatField(allow_null=True)
    p_value = serializers.FloatField(allow_null=True, help_text=_("Alleen in de definitieve analyse"))
    p_adjusted = serializers.FloatField(allow_null=True, help_text="Holm–Bonferroni")
    test = serializers.CharField(allow_null=True, help_text="z | fisher")
    significant = serializers.BooleanField(help_text=_("Nooit waar zolang de analyse voorlopig is"))
    sample_reached = serializers.BooleanField()
    verdict = serializers.CharField(allow_null=True, help_text="better | worse | no_difference")


class SrmSerializer(serializers.Serializer):
    checked = serializers.BooleanField()
    p_value = serializers.FloatField(allow_null=True)
    statistic = serializers.FloatField(allow_null=True)
    mismatch = serializers.BooleanField()


class AnalysisSerializer(serializers.Serializer):
    arms = ArmSerializer(many=True)
    alpha = serializers.FloatField()
    sample_ratio_mismatch = SrmSerializer(source="srm")
    planned_per_variant = serializers.IntegerField(source="planned_per_arm", allow_null=True)
    sample_reached = serializers.BooleanField()
    baseline = serializers.FloatField()
    baseline_assumed = serializers.BooleanField()
    mde_planned = serializers.FloatField(allow_null=True)
    mde_now = serializers.FloatField(allow_null=True)
    n_for_typical_effect = serializers.IntegerField(allow_null=True)
    lower_is_better = serializers.BooleanField()
    winner = serializers.CharField(allow_null=True)
    worse = serializers.ListField(child=serializers.CharField())
    verdict = serializers.CharField(help_text="no_data | collecting | srm | winner | worse | no_difference")
    final = serializers.BooleanField()
    provisional = serializers.BooleanField()


class MetricResultSerializer(serializers.Serializer):
    metric = serializers.CharField()
    # A declared field: DRF's metaclass takes it out of the class, so it does not shadow
    # Field.label at run time (the stubs cannot express that).
    label = serializers.CharField()  # type: ignore[assignment]
    role = serializers.CharField()
    comparable = serializers.BooleanField()
    lower_is_better = serializers.BooleanField()
    denominator = serializers.CharField(help_text="exposed | bookers | matured")
    analysis = AnalysisSerializer()
    per_exposed = AnalysisSerializer(allow_null=True)


class ExperimentResultsApi(NudgeApiView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [CanManageExperiments]

    @extend_schema_serializer(component_name="ExperimentResults")
    class OutputSerializer(serializers.Serializer):
        experiment = serializers.IntegerField(source="experiment.pk")
        name = serializers.CharField(source="experiment.name")
        status = serializers.CharField(source="experiment.status")
        computed_at = serializers.DateTimeField(help_text=_("Het analysemoment"))
        analysis_frozen_at = serializers.DateTimeField(source="experiment.analysis_frozen_at", allow_null=True)
        final = serializers.BooleanField()
        provisional = serializers.BooleanField()
        verdict = serializers.CharField(help_text="no_data | collecting | srm | winner | worse | no_difference")
        winner = serializers.CharField(allow_null=True)
        blocked_by = serializers.ListField(child=serializers.CharField())
        harmed_on = serializers.ListField(child=serializers.CharField())
        total_exposures = serializers.IntegerField()
        primary = MetricResultSerializer(allow_null=True)
        guardrails = MetricResultSerializer(many=True)
        descriptive = MetricResultSerializer(many=True)

    @extend_schema(
        summary=_("Resultaten van een experiment"),
        description=_(
            "Per variant: blootstellingen, conversies, percentage met 95%-Wilson-interval; verschil met controle "
            "met 95%-interval (Newcombe) en p-waarde (z-toets of Fisher), Holm–Bonferroni-correctie, "
            "sample-ratio-mismatch-toets, minimaal detecteerbaar effect. Vaste horizon: één definitieve analyse, "
            "vastgelegd bij de eerste blik waarop elke variant de geplande steekproef heeft; daarvoor geen "
            "p-waarden en niets significant."
        ),
        responses={200: OutputSerializer},
    )
    def get(self, request, experiment_id: int):
        experiment = selectors.experiment_get(experiment_id)
        return Response(self.OutputSerializer(services.experiment_look(experiment=experiment)).data)
