from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NudgesConfig(AppConfig):
    name = "nudges"
    verbose_name = _("Kanaalsturing")

    def ready(self) -> None:
        # booking never imports nudges: nudges plugs into booking's explicit hooks here.
        from booking import flow, hooks
        from booking.retention import register_retention_step
        from booking.staff.permissions import register_nav

        from . import confirmations, messaging, reminders, satisfaction, services, waitlist, waitlist_report
        from .apis import base  # noqa: F401 - registers the OpenAPI scheme of the integration token
        from .constants import MessageKind
        from .flow_step import product_choice_step

        flow.register_product_step(product_choice_step)
        hooks.register(hooks.APPOINTMENT_BOOKED, services.appointment_booked)
        hooks.register(hooks.APPOINTMENT_CANCELLED, services.appointment_cancelled)
        hooks.register(hooks.APPOINTMENT_STATUS_CHANGED, services.appointment_status_changed)
        # Reminders: planned when booked, re-planned when moved, cancelled with the appointment.
        # In the booking's transaction: the outbox rows commit with the booking or not at all.
        hooks.register(hooks.APPOINTMENT_BOOKED, reminders.reminders_plan, in_transaction=True)
        hooks.register(hooks.APPOINTMENT_RESCHEDULED, reminders.reminders_replan, in_transaction=True)
        hooks.register(hooks.APPOINTMENT_CANCELLED, reminders.reminders_cancel, in_transaction=True)
        messaging.register_message_kind(MessageKind.REMINDER, reminders.reminder_build, sent=reminders.reminder_sent)
        # Booking's confirmations and closure apologies, also through the outbox.
        hooks.register(hooks.CONFIRMATION_WANTED, confirmations.confirmation_plan, in_transaction=True)
        hooks.register(hooks.APPOINTMENT_CANCELLED, confirmations.apology_plan, in_transaction=True)
        messaging.register_message_kind(MessageKind.CONFIRMATION, confirmations.confirmation_build)
        messaging.register_message_kind(MessageKind.CLOSURE_APOLOGY, confirmations.apology_build)
        register_nav("nudges:manager-list", _("Experimenten"), "nudges.manage_experiments")
        # Satisfaction: one question after a served visit, and its share of the AVG retention job.
        # In the desk's transaction: the question is planned if and only if "served" commits.
        hooks.register(hooks.APPOINTMENT_STATUS_CHANGED, satisfaction.satisfaction_plan, in_transaction=True)
        messaging.register_message_kind(MessageKind.SATISFACTION, satisfaction.satisfaction_build)
        register_retention_step("satisfaction_comments", satisfaction.satisfaction_comments_erase_expired)
        register_nav("nudges:manager-satisfaction", _("Tevredenheid"), "nudges.manage_experiments")
        # Waiting list: a cancelled time is offered by a Celery task queued after the cancel has
        # committed (a failing offer never touches the cancel); its e-mails (the double opt-in
        # too); entries that ran out or were never confirmed end nightly.
        hooks.register(hooks.APPOINTMENT_CANCELLED, waitlist.waitlist_time_freed)
        messaging.register_message_kind(MessageKind.WAITLIST_OFFER, waitlist_report.waitlist_offer_build)
        messaging.register_message_kind(MessageKind.WAITLIST_TAKEN, waitlist_report.waitlist_taken_build)
        messaging.register_message_kind(MessageKind.WAITLIST_CONFIRM, waitlist_report.waitlist_confirm_build)
        register_retention_step("waitlist_entries", waitlist.waitlist_erase_expired)
        register_nav("nudges:manager-waitlist", _("Wachtlijst"), "nudges.manage_experiments")
        # Contacts on every channel: appointments count as contacts without double entry,
        # written in booking's transaction (nudges.channels).
        from .channels import services as contacts

        hooks.register(hooks.APPOINTMENT_BOOKED, contacts.appointment_booked, in_transaction=True)
        hooks.register(hooks.APPOINTMENT_STATUS_CHANGED, contacts.appointment_status_changed, in_transaction=True)
        # The manager's cockpit: the policy frame monitored daily, a breach e-mailed once.
        from .cockpit.services import breach_alert_build

        messaging.register_message_kind(MessageKind.BOUND_BREACH, breach_alert_build)
        register_nav("nudges:cockpit-frame", _("Cockpit"), "nudges.manage_policy")
