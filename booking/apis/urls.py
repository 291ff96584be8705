from csp.decorators import csp_update
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

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

# Both renderers set styles from their scripts and ReDoc searches in a blob worker; the scripts
# themselves are still our own files only.
_docs_csp = csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["blob:"]})

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI and ReDoc from our own static files (drf-spectacular-sidecar); the split view
    # serves its start-up script as a file, so no inline script is needed.
    path(
        "docs/",
        _docs_csp(SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/swagger_ui.html")),
        name="api-docs",
    ),
    path(
        "redoc/",
        _docs_csp(SpectacularRedocView.as_view(url_name="api-schema", template_name="api/redoc.html")),
        name="api-redoc",
    ),
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
