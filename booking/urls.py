from django.urls import path

from . import views

app_name = "booking"

urlpatterns = [
    path("", views.home, name="home"),
    path("producten/<slug:code>/", views.product_detail, name="product"),
    # Booking, five steps and the confirmation. Choices live in the session, never in the URL.
    path("afspraak-maken/", views.products_step, name="products"),
    path("afspraak-maken/vestiging/", views.location_step, name="location"),
    path("afspraak-maken/tijd/", views.time_step, name="time"),
    path("afspraak-maken/gegevens/", views.details_step, name="details"),
    path("afspraak-maken/controleren/", views.check_step, name="check"),
    path("afspraak-maken/bevestigd/", views.confirmed, name="confirmed"),
    # Managing an appointment by its private link (the secret manage token).
    path("afspraak/<token:token>/", views.manage, name="manage"),
    path("afspraak/<token:token>/annuleren/", views.manage_cancel, name="manage_cancel"),
    path("afspraak/<token:token>/verzetten/", views.manage_reschedule, name="manage_reschedule"),
    path("afspraak/<token:token>/afspraak.ics", views.manage_ics, name="manage_ics"),
    # Links in the reminder: "I'm coming" and "already arranged online?" (GET asks, POST acts).
    path("afspraak/<token:token>/ik-kom/", views.manage_confirm, name="manage_confirm"),
    path("afspraak/<token:token>/al-online-geregeld/", views.manage_done_online, name="manage_done_online"),
    path("toegankelijkheid/", views.accessibility_statement, name="accessibility"),
    path("privacy/", views.privacy_statement, name="privacy"),
]
