"""Admin as a fallback for every booking model; the purpose-built staff pages come first."""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User

from .availability import invalidate_availability
from .models import (
    Appointment,
    AppointmentEvent,
    Closure,
    Desk,
    HolidayOpening,
    IntegrationClient,
    Location,
    OpeningHours,
    Product,
)
from .web import ReadOnlyAdmin


class InvalidatesAvailability(admin.ModelAdmin):
    """Schedule changes made here must show in availability at once."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        invalidate_availability()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        invalidate_availability()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        invalidate_availability()


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


@admin.register(Location)
class LocationAdmin(InvalidatesAvailability, admin.ModelAdmin):
    list_display = ["name", "city", "grid_minutes", "is_active"]


@admin.register(Desk)
class DeskAdmin(InvalidatesAvailability, admin.ModelAdmin):
    list_display = ["name", "location", "is_active"]
    list_filter = ["location"]
    filter_horizontal = ["products"]
    inlines = [OpeningHoursInline]


@admin.register(Product)
class ProductAdmin(InvalidatesAvailability, admin.ModelAdmin):
    list_display = ["code", "name_nl", "minutes_per_person", "requires_presence", "fee_counter", "fee_online"]
    search_fields = ["code", "name_nl", "name_en"]


@admin.register(OpeningHours)
class OpeningHoursAdmin(InvalidatesAvailability, admin.ModelAdmin):
    list_display = ["desk", "weekday", "opens", "closes", "valid_from", "valid_until"]
    list_filter = ["desk__location", "weekday"]


@admin.register(Closure)
class ClosureAdmin(InvalidatesAvailability, admin.ModelAdmin):
    list_display = ["location", "desk", "starts_at", "ends_at", "reason"]
    list_filter = ["location"]


@admin.register(HolidayOpening)
class HolidayOpeningAdmin(InvalidatesAvailability, admin.ModelAdmin):
    list_display = ["location", "date", "note"]


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyAdmin):
    """Appointments change through the staff pages and the citizen's link: those record the
    audit trail and tell the other apps (apology, waiting list, availability)."""

    list_display = ["reference", "start", "desk", "persons", "channel", "source_client", "status"]
    list_filter = ["status", "channel", "source_client", "desk__location"]
    search_fields = ["reference"]
    date_hierarchy = "start"
    exclude = ["manage_token"]
    readonly_fields = ["reference", "created_at", "updated_at", "booked_at", "cancelled_at"]
    raw_id_fields = ["desk", "source_client"]


@admin.register(AppointmentEvent)
class AppointmentEventAdmin(ReadOnlyAdmin):
    """The audit trail is append-only: readable here, never written or removed."""

    list_display = ["at", "appointment", "action", "actor", "client", "channel"]
    list_filter = ["action", "channel"]
    search_fields = ["appointment__reference"]
    date_hierarchy = "at"
    list_select_related = ["appointment", "actor", "client"]
    readonly_fields = ["appointment", "at", "actor", "client", "action", "channel", "changes"]


class SuperuserOnlyAdmin:
    """Users, groups and permissions: only a superuser changes them, whatever permissions a
    group was given by hand (a Beheerder must not be able to make itself superuser)."""

    def has_add_permission(self, request, *args):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


class StaffUserAdmin(SuperuserOnlyAdmin, UserAdmin):
    pass


class StaffGroupAdmin(SuperuserOnlyAdmin, GroupAdmin):
    pass


admin.site.unregister(User)
admin.site.unregister(Group)
admin.site.register(User, StaffUserAdmin)
admin.site.register(Group, StaffGroupAdmin)


@admin.register(IntegrationClient)
class IntegrationClientAdmin(admin.ModelAdmin):
    """Clients are created with ``manage.py integration_client`` (the token is shown once);
    here they are switched off or given other settings."""

    list_display = ["name", "token_prefix", "scopes", "is_active", "send_confirmation_emails", "last_used_at"]
    list_filter = ["is_active"]
    readonly_fields = ["token_prefix", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False
