from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("booking.apis.urls")),
    path("api/v1/", include("nudges.apis.urls")),
    # Open Formulieren's Qmatic plugin, unchanged, points its service URL here.
    path("qmatic/calendar-backend/public/api/", include("booking.apis.qmatic.urls")),
    path("api/v1/", include("nudges.channels.api_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("medewerkers/contacten/", include("nudges.channels.urls")),
    path("medewerkers/", include("booking.staff.urls")),
    path("", include("nudges.urls")),
    path("", include("booking.urls")),
]
