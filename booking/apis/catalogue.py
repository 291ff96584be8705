"""Products and locations: what can be booked where."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from booking.selectors import location_list, product_list, products_by_codes


class ProductListApi(APIView):
    @extend_schema_serializer(component_name="Product")
    class OutputSerializer(serializers.Serializer):
        class FeesSerializer(serializers.Serializer):
            counter = serializers.DecimalField(max_digits=7, decimal_places=2, source="fee_counter", allow_null=True)
            online = serializers.DecimalField(max_digits=7, decimal_places=2, source="fee_online", allow_null=True)
            phone = serializers.DecimalField(max_digits=7, decimal_places=2, source="fee_phone", allow_null=True)

        class OnlineAlternativeSerializer(serializers.Serializer):
            url = serializers.URLField(source="online_url")
            requirements = serializers.CharField(source="online_requirements")

        code = serializers.CharField()
        name = serializers.CharField()
        minutes_per_person = serializers.IntegerField()
        requires_presence = serializers.BooleanField()
        fees = FeesSerializer(source="*")
        online_alternative = serializers.SerializerMethodField()

        @extend_schema_field(OnlineAlternativeSerializer(allow_null=True))
        def get_online_alternative(self, product):
            if not product.has_online_alternative:
                return None
            return self.OnlineAlternativeSerializer(product).data

    @extend_schema(
        summary=_("Producten"),
        description=_("Alle producten waarvoor een afspraak kan worden gemaakt, met leges per kanaal."),
        responses=OutputSerializer(many=True),
    )
    def get(self, request):
        return Response(self.OutputSerializer(product_list(), many=True).data)


class LocationListApi(APIView):
    class FilterSerializer(serializers.Serializer):
        product = serializers.ListField(child=serializers.CharField(max_length=40), required=False, max_length=5)

    @extend_schema_serializer(component_name="Location")
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        name = serializers.CharField()
        address = serializers.CharField()

    @extend_schema(
        summary=_("Vestigingen"),
        description=_("Vestigingen; met product alleen die waar een balie alle gekozen producten behandelt."),
        parameters=[OpenApiParameter("product", str, many=True, description=_("Productcode (herhaalbaar)"))],
        responses=OutputSerializer(many=True),
    )
    def get(self, request):
        filters = self.FilterSerializer(data={"product": request.query_params.getlist("product")})
        filters.is_valid(raise_exception=True)
        codes = filters.validated_data.get("product") or []
        products = products_by_codes(codes, field="product") if codes else None
        return Response(self.OutputSerializer(location_list(products=products), many=True).data)
