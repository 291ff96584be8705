"""Citizen pages (the nudge step, the tracked redirect, the register) and manager pages."""

from django.urls import include, path

from nudges.experiments import manager_views, views
from nudges.satisfaction import views as satisfaction_views
from nudges.waitlist import views as waitlist_views

app_name = "nudges"

urlpatterns = [
    path("", include("nudges.cockpit.urls")),
    path("afspraak-maken/online-of-balie/", views.step, name="step"),
    path("afspraak-maken/online-of-balie/balie/", views.continue_to_counter, name="counter"),
    path("kanaalsturing/online/<slug:code>/", views.go_online, name="online"),
    path("transparantie/", views.register, name="register"),
    path("tevredenheid/<token:token>/", satisfaction_views.survey, name="satisfaction"),
    path("medewerkers/tevredenheid/", satisfaction_views.satisfaction_overview, name="manager-satisfaction"),
    path("wachtlijst/", waitlist_views.join, name="waitlist-join"),
    path("wachtlijst/eerder/<token:token>/", waitlist_views.join_for_appointment, name="waitlist-appointment"),
    path("wachtlijst/aanbod/<token:token>/", waitlist_views.offer, name="waitlist-offer"),
    path("wachtlijst/<token:token>/", waitlist_views.entry, name="waitlist-entry"),
    path("wachtlijst/<token:token>/afmelden/", waitlist_views.leave, name="waitlist-leave"),
    path("wachtlijst/<token:token>/bevestigen/", waitlist_views.confirm, name="waitlist-confirm"),
    path("medewerkers/wachtlijst/", waitlist_views.waitlist_overview, name="manager-waitlist"),
    path("medewerkers/experimenten/", manager_views.experiment_list, name="manager-list"),
    path("medewerkers/experimenten/nieuw/", manager_views.experiment_create, name="manager-create"),
    path("medewerkers/experimenten/<int:experiment_id>/", manager_views.experiment_detail, name="manager-detail"),
    path("medewerkers/experimenten/<int:experiment_id>/bewerken/", manager_views.experiment_edit, name="manager-edit"),
    path(
        "medewerkers/experimenten/<int:experiment_id>/status/",
        manager_views.experiment_transition,
        name="manager-transition",
    ),
]
