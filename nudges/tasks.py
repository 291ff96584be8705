"""Celery tasks of nudges (their names are persisted in beat schedules and queues: keep them). Thin: the work is in the features' services."""

from celery import shared_task


@shared_task
def dispatch_due_messages() -> int:
    """Run by beat every NUDGES_DISPATCH_INTERVAL_SECONDS, and right after a message due at once
    was planned: report rows a dead worker left in 'sending', then send up to
    NUDGES_MESSAGE_BATCH due rows. When more are due after that, it queues itself again, so a
    backlog drains at the workers' pace instead of one batch per beat. Safe to run several at
    once: rows are claimed with SKIP LOCKED."""
    from nudges.outbox.dispatch import messages_dispatch_due, messages_due_exist, messages_reconcile_stuck

    messages_reconcile_stuck()
    sent = messages_dispatch_due()
    if messages_due_exist():
        dispatch_due_messages.delay()
    return sent


@shared_task
def plan_missing_reminders() -> int:
    """Hourly (CELERY_BEAT_SCHEDULE): the reminders of booked appointments that have none."""
    from nudges.reminders.planning import reminders_plan_missing

    return reminders_plan_missing()


@shared_task
def waitlist_offers_for_freed_time(appointment_id: int) -> int:
    """Queued after a cancel has committed (``nudges.waitlist.waitlist_time_freed``): hold the
    freed time and offer it to the waiting list, off the request that cancelled. Safe to run
    twice: a freed time is held and offered at most once. Returns how many offers."""
    from nudges.waitlist.offers import waitlist_offers_make

    return len(waitlist_offers_make(freed_appointment_id=appointment_id))


@shared_task
def check_policy_bounds() -> int:
    """Daily (CELERY_BEAT_SCHEDULE): measure every bound of the policy frame and e-mail the
    managers once when one becomes breached (``nudges.cockpit.services.bounds_check``)."""
    from .cockpit.services import bounds_check

    return bounds_check().opened


@shared_task
def refresh_cockpit_rollup_days(date_from: str, date_to: str) -> int:
    """Queued after contacts for older days were stored (an import, an integration catching up):
    rebuild those days' roll-ups, which the 15-minute job (yesterday and today) never reaches."""
    from datetime import date

    from .cockpit.rollups import rollups_refresh

    return rollups_refresh(date_from=date.fromisoformat(date_from), date_to=date.fromisoformat(date_to))


@shared_task
def refresh_cockpit_rollups() -> int:
    """Every COCKPIT_ROLLUP_MINUTES (CELERY_BEAT_SCHEDULE): rebuild yesterday's and today's
    contact and appointment roll-ups and recount the experiments, so the cockpit pages read
    small tables. Safe to run twice: days are rebuilt whole under a lock."""
    from .cockpit.portfolio import experiment_snapshots_refresh, portfolio_cached
    from .cockpit.rollups import rollups_refresh

    done = rollups_refresh() + experiment_snapshots_refresh()
    portfolio_cached()  # warm the cache, so the first manager after a refresh does not wait
    portfolio_cached(metric_override="no_show")
    return done
