from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from .appointments import (
    AppointmentCancelApi,
    AppointmentCreateApi,
    AppointmentDetailApi,
    AppointmentRescheduleApi,
    HoldCreateApi,
)
from .availability import AvailabilityApi
from .catalogue import LocationListApi, ProductListApi
from .health import HealthApi

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("health/", HealthApi.as_view(), name="api-health"),
    path("products/", ProductListApi.as_view(), name="api-products"),
    path("locations/", LocationListApi.as_view(), name="api-locations"),
    path("availability/", AvailabilityApi.as_view(), name="api-availability"),
    path("holds/", HoldCreateApi.as_view(), name="api-holds"),
    path("appointments/", AppointmentCreateApi.as_view(), name="api-appointments"),
    path("appointments/<token:manage_token>/", AppointmentDetailApi.as_view(), name="api-appointment-detail"),
    path("appointments/<token:manage_token>/cancel/", AppointmentCancelApi.as_view(), name="api-appointment-cancel"),
    path(
        "appointments/<token:manage_token>/reschedule/",
        AppointmentRescheduleApi.as_view(),
        name="api-appointment-reschedule",
    ),
]
