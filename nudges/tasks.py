"""Periodic jobs of nudges. Thin: the work is in ``nudges.messaging``."""

from celery import shared_task


@shared_task
def dispatch_due_messages() -> int:
    """Every minute (CELERY_BEAT_SCHEDULE): report rows a dead worker left in 'sending', then
    send what is due. Safe to run several at once: rows are claimed with SKIP LOCKED."""
    from .messaging import messages_dispatch_due, messages_reconcile_stuck

    messages_reconcile_stuck()
    return messages_dispatch_due()
