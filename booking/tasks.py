from celery import shared_task

from .services import holds_purge_expired


@shared_task
def purge_expired_holds() -> int:
    return holds_purge_expired()


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_confirmation_email(appointment_id: int) -> bool:
    """Queued after the booking commits (``delay_on_commit``); retries when the mail server is away."""
    from .notifications import send_appointment_confirmation

    return send_appointment_confirmation(appointment_id)


@shared_task
def clear_expired_sessions() -> None:
    """Sessions of visitors who stopped halfway hold contact details: remove them once expired."""
    from django.core.management import call_command

    call_command("clearsessions")


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_closure_apology_email(appointment_id: int, reason: str) -> bool:
    """Queued per cancelled appointment after a closure commits (``delay_on_commit``)."""
    from .notifications import send_closure_apology

    return send_closure_apology(appointment_id, reason)


@shared_task
def erase_expired_personal_data() -> dict:
    """Nightly (CELERY_BEAT_SCHEDULE, 03:30): the AVG retention job (``booking.retention``),
    booking's part and every step other apps registered. Safe to run twice."""
    from .retention import personal_data_erase_expired

    report = personal_data_erase_expired()
    return {"appointments": report.appointments, **report.steps}
