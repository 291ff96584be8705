from celery import shared_task

from .services import holds_purge_expired


@shared_task
def purge_expired_holds() -> int:
    return holds_purge_expired()
