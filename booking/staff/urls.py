"""Staff pages, mounted under /medewerkers/ (config/urls.py)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from . import accounts, phone_views, planning_views, views

app_name = "staff"

urlpatterns = [
    path("", views.home, name="home"),
    path("inloggen/", views.login_view, name="login"),
    path("uitloggen/", auth_views.LogoutView.as_view(next_page="staff:login"), name="logout"),
    path("tweestapsverificatie/", accounts.enrol, name="mfa_enrol"),
    path("tweestapsverificatie/controleren/", accounts.verify, name="mfa_verify"),
    # Desk
    path("balie/", views.board, name="board"),
    path("balie/bord/", views.board_fragment, name="board_fragment"),
    path("balie/inloop/", views.walk_in, name="walk_in"),
    path("afspraken/<reference:reference>/", views.appointment_detail, name="appointment"),
    path("afspraken/<reference:reference>/aanmelden/", views.check_in, name="check_in"),
    path("afspraken/<reference:reference>/geholpen/", views.served, name="served"),
    path("afspraken/<reference:reference>/niet-verschenen/", views.no_show, name="no_show"),
    path("afspraken/<reference:reference>/terugdraaien/", views.undo, name="undo"),
    # Phone
    path("telefoon/", phone_views.phone, name="phone"),
    path("telefoon/nieuw/", phone_views.phone_book, name="phone_book"),
    path("afspraken/<reference:reference>/verzetten/", phone_views.phone_reschedule, name="phone_reschedule"),
    path("afspraken/<reference:reference>/annuleren/", phone_views.phone_cancel, name="phone_cancel"),
    # Planning
    path("planning/", planning_views.schedules, name="schedules"),
    path("planning/<int:location_id>/", planning_views.schedule, name="schedule"),
    path("planning/<int:location_id>/openingstijden/", planning_views.hours_add, name="hours_add"),
    path("planning/openingstijden/<int:hours_id>/einde/", planning_views.hours_end, name="hours_end"),
    path("planning/openingstijden/<int:hours_id>/verwijderen/", planning_views.hours_delete, name="hours_delete"),
    path("planning/balies/<int:desk_id>/producten/", planning_views.desk_products, name="desk_products"),
    path("planning/<int:location_id>/sluiting/", planning_views.closure_new, name="closure_new"),
    path("planning/sluitingen/<int:closure_id>/verwijderen/", planning_views.closure_delete, name="closure_delete"),
    path("planning/<int:location_id>/feestdagen/<isodate:day>/", planning_views.holiday, name="holiday"),
    # Products and capacity
    path("producten/", planning_views.products, name="products"),
    path("producten/nieuw/", planning_views.product_edit, name="product_new"),
    path("producten/<slug:code>/", planning_views.product_edit, name="product_edit"),
    path("capaciteit/", planning_views.capacity, name="capacity"),
]
