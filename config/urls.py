from django.contrib import admin
from django.urls import include, path

from booking.staff.views import admin_login_view

urlpatterns = [
    # The admin's login with the staff login's per-address limit (django-axes guards both).
    path("admin/login/", admin_login_view, name="admin-login-limited"),
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
