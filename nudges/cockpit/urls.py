from django.urls import path

from . import views

urlpatterns = [
    path("medewerkers/cockpit/", views.frame, name="cockpit-frame"),
    path("medewerkers/cockpit/meten/", views.measure_now, name="cockpit-measure"),
    path("medewerkers/cockpit/kanalen/", views.channels, name="cockpit-channels"),
    path("medewerkers/cockpit/kosten/", views.cost, name="cockpit-cost"),
    path("medewerkers/cockpit/nudges/", views.nudges, name="cockpit-nudges"),
    path("medewerkers/cockpit/rapport/", views.report, name="cockpit-report"),
    path("medewerkers/cockpit/export/<slug:name>.<slug:fmt>", views.export, name="cockpit-export"),
]
