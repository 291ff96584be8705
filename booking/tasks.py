from celery import shared_task

from .services import holds_purge_expired


@shared_task
def purge_expired_holds() -> int:
    return holds_purge_expired()


@shared_task
def clear_expired_sessions() -> None:
    """Sessions of visitors who stopped halfway hold contact details: remove them once expired."""
    from django.core.management import call_command

    call_command("clearsessions")


@shared_task
def erase_expired_personal_data() -> dict:
    """Nightly (CELERY_BEAT_SCHEDULE, 03:30): the AVG retention job (``booking.retention``),
    booking's part and every step other apps registered. Safe to run twice."""
    from .retention import personal_data_erase_expired

    report = personal_data_erase_expired()
    return {"appointments": report.appointments, **report.steps}
