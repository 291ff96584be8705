from django.urls import path

from . import flow_views, manage_views, views

app_name = "booking"

urlpatterns = [
    path("", views.home, name="home"),
    path("producten/<slug:code>/", views.product_detail, name="product"),
    # Booking, five steps and the confirmation. Choices live in the session, never in the URL.
    path("afspraak-maken/", flow_views.products_step, name="products"),
    path("afspraak-maken/vestiging/", flow_views.location_step, name="location"),
    path("afspraak-maken/tijd/", flow_views.time_step, name="time"),
    path("afspraak-maken/gegevens/", flow_views.details_step, name="details"),
    path("afspraak-maken/controleren/", flow_views.check_step, name="check"),
    path("afspraak-maken/bevestigd/", flow_views.confirmed, name="confirmed"),
    # Managing an appointment by its private link (the secret manage token).
    path("afspraak/<token:token>/", manage_views.manage, name="manage"),
    path("afspraak/<token:token>/annuleren/", manage_views.manage_cancel, name="manage_cancel"),
    path("afspraak/<token:token>/verzetten/", manage_views.manage_reschedule, name="manage_reschedule"),
    path("afspraak/<token:token>/afspraak.ics", manage_views.manage_ics, name="manage_ics"),
    # Links in the reminder: "I'm coming" and "already arranged online?" (GET asks, POST acts).
    path("afspraak/<token:token>/ik-kom/", manage_views.manage_confirm, name="manage_confirm"),
    path("afspraak/<token:token>/al-online-geregeld/", manage_views.manage_done_online, name="manage_done_online"),
    path("toegankelijkheid/", views.accessibility_statement, name="accessibility"),
    path("privacy/", views.privacy_statement, name="privacy"),
]
