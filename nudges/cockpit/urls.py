from django.urls import path

from . import views

urlpatterns = [
    path("medewerkers/cockpit/", views.frame, name="cockpit-frame"),
    path("medewerkers/cockpit/meten/", views.measure_now, name="cockpit-measure"),
]
