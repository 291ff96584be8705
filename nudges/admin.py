"""Admin as a fallback. Logs are read-only here; a started experiment's design is read-only
here too (the model and the service refuse changes underneath)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from booking.web import ReadOnlyAdmin
from nudges.exceptions import NudgeError
from nudges.models import (
    ContactChannel,
    DeliveryAttempt,
    Exemption,
    Experiment,
    Exposure,
    Intervention,
    OnlineCompletion,
    OnlineReference,
    Outcome,
    ScheduledMessage,
    UnitAppointment,
    Variant,
)
from nudges.outbox.dispatch import messages_requeue


@admin.register(Intervention)
class InterventionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "touchpoint", "principle", "kind"]
    list_filter = ["touchpoint", "principle"]
    filter_horizontal = ["products"]

    def get_readonly_fields(self, request, obj=None):
        # Changing the wording of a nudge in a started experiment changes the treatment.
        if obj is not None and obj.variants.exclude(experiment__status="draft").exists():
            return [f.name for f in obj._meta.fields] + ["products"]
        return []


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0

    def _locked(self, obj):
        return obj is not None and obj.is_locked

    def has_add_permission(self, request, obj=None):
        return not self._locked(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not self._locked(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self._locked(obj) and super().has_delete_permission(request, obj)


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "touchpoint", "primary_metric", "planned_sample_per_variant", "started_at"]
    list_filter = ["status", "touchpoint"]
    filter_horizontal = ["products"]
    inlines = [VariantInline]
    readonly_fields = ["status", "started_at", "finished_at"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(self.readonly_fields)
        if obj is not None and obj.is_locked:
            fields += [*Experiment.LOCKED_FIELDS, "products", "planned_start"]
        return fields

    def save_model(self, request, obj, form, change):
        try:
            super().save_model(request, obj, form, change)
        except NudgeError as exc:
            messages.error(request, str(exc.message))
            raise PermissionDenied(str(exc.message)) from exc


@admin.register(Exposure)
class ExposureAdmin(ReadOnlyAdmin):
    list_display = ["experiment", "variant", "product", "source", "fallback", "exposed_at"]
    list_filter = ["experiment", "source"]


@admin.register(Exemption)
class ExemptionAdmin(ReadOnlyAdmin):
    list_display = ["experiment", "reason", "source", "at"]
    list_filter = ["experiment", "reason"]


@admin.register(Outcome)
class OutcomeAdmin(ReadOnlyAdmin):
    list_display = ["experiment", "variant", "kind", "source", "occurred_at"]
    list_filter = ["experiment", "kind"]


@admin.register(OnlineReference)
class OnlineReferenceAdmin(ReadOnlyAdmin):
    list_display = ["experiment", "variant", "product", "created_at"]


@admin.register(OnlineCompletion)
class OnlineCompletionAdmin(ReadOnlyAdmin):
    list_display = ["product", "completed_at"]


@admin.register(UnitAppointment)
class UnitAppointmentAdmin(ReadOnlyAdmin):
    list_display = ["appointment_id", "linked_at"]


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = readonly_fields = ("started_at", "finished_at", "outcome", "error")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ScheduledMessage)
class ScheduledMessageAdmin(admin.ModelAdmin):
    """The outbox, to look into: rows are written by the planners and the dispatcher only. The
    one action sends failed rows again (after checking the provider's log for an "unknown
    outcome")."""

    list_display = ["pk", "kind", "channel", "due_at", "status", "attempts", "last_error", "sent_at"]
    list_filter = ["status", "kind", "channel"]
    date_hierarchy = "due_at"
    search_fields = ["=appointment__reference", "=provider_id"]
    list_select_related = False
    inlines = [DeliveryAttemptInline]
    actions = ["requeue"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in ScheduledMessage._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Mislukte berichten opnieuw versturen"), permissions=["change"])
    def requeue(self, request, queryset):
        queued = messages_requeue(message_ids=list(queryset.values_list("pk", flat=True)))
        text = ngettext("%(count)s bericht opnieuw ingepland.", "%(count)s berichten opnieuw ingepland.", queued)
        self.message_user(request, text % {"count": queued}, messages.SUCCESS)


@admin.register(ContactChannel)
class ContactChannelAdmin(admin.ModelAdmin):
    """The list of contact channels, data the Beheerder extends (a chat tool, a new social
    medium). A channel's code is what integrations and CSV files send, so it is fixed once the
    channel exists; a channel is switched off (``is_active``), never deleted, because its
    contacts keep pointing at it."""

    list_display = ["code", "name_nl", "name_en", "kind", "cost_channel", "position", "is_active"]
    list_filter = ["kind", "is_active"]
    ordering = ["position", "code"]

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        return False
