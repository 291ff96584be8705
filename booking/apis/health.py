from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView


class HealthApi(APIView):
    """Liveness for load balancers; touches neither database nor cache."""

    authentication_classes: list = []
    throttle_classes: list = []

    @extend_schema(summary="Health", responses=inline_serializer("Health", {"status": serializers.CharField()}))
    def get(self, request):
        return Response({"status": "ok"})
