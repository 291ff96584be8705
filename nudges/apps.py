"""nudges plugs into booking here and nowhere else: booking never imports nudges.

Hooks nudges registers (all in ``NudgesConfig.ready``):

- flow step: ``experiments.flow_step.product_choice_step`` after the product choice;
- ``APPOINTMENT_BOOKED``: ``experiments.listeners.appointment_booked`` and
  ``channels.kcc.call_appointment_booked`` (after commit, in the request) and
  ``reminders.planning.reminders_plan`` (in the booking's transaction);
- ``APPOINTMENT_RESCHEDULED``: ``reminders.planning.reminders_replan`` (in transaction);
- ``APPOINTMENT_CANCELLED``: ``experiments.listeners.appointment_cancelled``,
  ``reminders.planning.reminders_cancel`` and ``outbox.confirmations.apology_plan`` (in
  transaction), ``waitlist.offers.waitlist_time_freed`` (after commit);
- ``APPOINTMENT_STATUS_CHANGED``: ``experiments.listeners.appointment_status_changed``,
  ``satisfaction.services.satisfaction_plan`` (in transaction);
- ``CONFIRMATION_WANTED``: ``outbox.confirmations.confirmation_plan`` (in transaction);
- message kinds (``outbox.dispatch.register_message_kind``): reminder, confirmation, closure
  apology, satisfaction, waiting-list offer/taken/confirm;
- page links (``booking.flow``): the waiting list under the time picker and on the manage page;
- retention steps: ``satisfaction_comments``, ``contact_survey_addresses``, ``waitlist_entries``;
- staff navigation: experiments, satisfaction, waiting list (``nudges.manage_experiments``).
"""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NudgesConfig(AppConfig):
    name = "nudges"
    verbose_name = _("Kanaalsturing")

    def ready(self) -> None:
        from booking import flow, hooks
        from booking.integrations import register_scope
        from booking.retention import register_retention_step
        from booking.staff.permissions import register_nav
        from nudges import checks  # noqa: F401 - registers the deploy check of NUDGES_UNIT_HASH_KEY
        from nudges.constants import SCOPE_NUDGES, MessageKind
        from nudges.experiments import listeners
        from nudges.experiments.flow_step import product_choice_step
        from nudges.outbox import confirmations
        from nudges.outbox.dispatch import register_message_kind
        from nudges.reminders import planning as reminders
        from nudges.satisfaction import services as satisfaction
        from nudges.waitlist import links as waitlist_links
        from nudges.waitlist import offers as waitlist_offers
        from nudges.waitlist import report as waitlist_report
        from nudges.waitlist import services as waitlist

        register_scope(SCOPE_NUDGES, _("Kanaalsturing: beslissing, blootstellingen en uitkomsten melden"))
        flow.register_product_step(product_choice_step)
        hooks.register(hooks.APPOINTMENT_BOOKED, listeners.appointment_booked)
        hooks.register(hooks.APPOINTMENT_CANCELLED, listeners.appointment_cancelled)
        hooks.register(hooks.APPOINTMENT_STATUS_CHANGED, listeners.appointment_status_changed)
        # Reminders: planned when booked, re-planned when moved, cancelled with the appointment.
        # In the booking's transaction: the outbox rows commit with the booking or not at all.
        hooks.register(hooks.APPOINTMENT_BOOKED, reminders.reminders_plan, in_transaction=True)
        hooks.register(hooks.APPOINTMENT_RESCHEDULED, reminders.reminders_replan, in_transaction=True)
        hooks.register(hooks.APPOINTMENT_CANCELLED, reminders.reminders_cancel, in_transaction=True)
        register_message_kind(MessageKind.REMINDER, reminders.reminder_build, sent=reminders.reminder_sent)
        # Booking's confirmations and closure apologies, also through the outbox.
        hooks.register(hooks.CONFIRMATION_WANTED, confirmations.confirmation_plan, in_transaction=True)
        hooks.register(hooks.APPOINTMENT_CANCELLED, confirmations.apology_plan, in_transaction=True)
        register_message_kind(MessageKind.CONFIRMATION, confirmations.confirmation_build)
        register_message_kind(MessageKind.CLOSURE_APOLOGY, confirmations.apology_build)
        register_nav("nudges:manager-list", _("Experimenten"), "nudges.manage_experiments")
        # Satisfaction: one question after a served visit, and its share of the AVG retention job.
        # In the desk's transaction: the question is planned if and only if "served" commits.
        hooks.register(hooks.APPOINTMENT_STATUS_CHANGED, satisfaction.satisfaction_plan, in_transaction=True)
        register_message_kind(
            MessageKind.SATISFACTION, satisfaction.satisfaction_build, sent=satisfaction.satisfaction_sent
        )
        register_retention_step("satisfaction_comments", satisfaction.satisfaction_comments_erase_expired)
        register_retention_step("contact_survey_addresses", satisfaction.contact_survey_addresses_erase_expired)
        register_nav("nudges:manager-satisfaction", _("Tevredenheid"), "nudges.manage_experiments")
        # Waiting list: a cancelled time is offered by a Celery task queued after the cancel has
        # committed (a failing offer never touches the cancel); its e-mails (the double opt-in
        # too); entries that ran out or were never confirmed end nightly.
        hooks.register(hooks.APPOINTMENT_CANCELLED, waitlist_offers.waitlist_time_freed)
        register_message_kind(MessageKind.WAITLIST_OFFER, waitlist_report.waitlist_offer_build)
        register_message_kind(MessageKind.WAITLIST_TAKEN, waitlist_report.waitlist_taken_build)
        register_message_kind(MessageKind.WAITLIST_CONFIRM, waitlist_report.waitlist_confirm_build)
        register_retention_step("waitlist_entries", waitlist.waitlist_erase_expired)
        flow.register_page_link(flow.TIME_STEP, waitlist_links.waitlist_join_link)
        flow.register_page_link(flow.MANAGE_PAGE, waitlist_links.waitlist_earlier_link)
        register_nav("nudges:manager-waitlist", _("Wachtlijst"), "nudges.manage_experiments")
        # Contacts on every channel: appointments count as contacts without double entry,
        # written in booking's transaction (nudges.channels).
        from .channels import services as contacts

        hooks.register(hooks.APPOINTMENT_BOOKED, contacts.appointment_booked, in_transaction=True)
        hooks.register(hooks.APPOINTMENT_STATUS_CHANGED, contacts.appointment_status_changed, in_transaction=True)
        # Registration on the desk's and the phone agent's pages, the KCC work instruction, the
        # staff page, and the API scope of channel systems.
        from booking.integrations import register_scope
        from booking.staff.panels import register_panel

        from .channels import kcc
        from .channels import views as contact_views

        register_message_kind(MessageKind.ONLINE_LINK, kcc.online_link_build, sent=kcc.online_link_sent)
        # A phone booking during a call of a KCC experiment is the call's "booked" outcome, in
        # both arms (after commit, in the agent's request: the call is in the session).
        hooks.register(hooks.APPOINTMENT_BOOKED, kcc.call_appointment_booked)
        register_retention_step("online_links", kcc.online_links_erase_expired)

        register_scope("contacts", _("Klantcontacten melden (telefonie, e-mail, WhatsApp, formulieren)"))
        register_nav("contacts:register", _("Contacten"), "nudges.register_contacts")
        register_panel("phone_book", "nudges/channels/script_panel.html", contact_views.script_panel)
        for page, provider in (
            ("board", contact_views.board_panel),
            ("phone", contact_views.phone_panel),
        ):
            register_panel(page, "nudges/channels/register_panel.html", provider, "nudges.register_contacts")
        # The manager's cockpit: the policy frame monitored daily, a breach e-mailed once.
        from .cockpit.services import breach_alert_build

        register_message_kind(MessageKind.BOUND_BREACH, breach_alert_build)
        register_nav("nudges:cockpit-frame", _("Cockpit"), "nudges.manage_policy")
