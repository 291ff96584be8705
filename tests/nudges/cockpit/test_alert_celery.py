"""The breach alert with a real Celery worker on a real Redis (the harness of
``tests/nudges/reminders/test_reminders_celery.py``): the daily check run by the worker, again and
again, e-mails each manager once per breach, and again only after the bound recovered."""

from __future__ import annotations

import re
import time
from decimal import Decimal

import pytest
from celery import Celery
from django.conf import settings

from nudges.cockpit import services
from nudges.cockpit.constants import BoundKind
from nudges.constants import MessageKind, MessageStatus
from nudges.models import BoundMeasurement, Breach, ScheduledMessage
from tests.nudges.reminders.test_reminders_celery import Cluster

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

CHECK = "nudges.tasks.check_policy_bounds"
MESSAGE_ID = re.compile(rb"^Message-ID: <scheduled-message-(\d+)@", re.MULTILINE | re.IGNORECASE)


@pytest.fixture
def redis_cluster(tmp_path):
    found = Cluster(tmp_path)
    try:
        found.start_redis()
        yield found
    finally:
        found.stop()


def test_the_beat_job_is_scheduled_daily():
    [entry] = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == CHECK]
    assert entry["schedule"].hour == {6}


def mails(redis_cluster: Cluster) -> list[int]:
    found = []
    for path in redis_cluster.mail_dir.iterdir():
        found += [int(x) for x in MESSAGE_ID.findall(path.read_bytes())]
    return found


def run_check(redis_cluster: Cluster, app: Celery) -> None:
    """Queue the daily job on the worker and wait until it has measured."""
    before = BoundMeasurement.objects.values_list("measured_at", flat=True).first()
    app.send_task(CHECK, queue="celery")
    redis_cluster.wait_until(
        lambda: BoundMeasurement.objects.values_list("measured_at", flat=True).first() != before,
        timeout=60,
        what="the policy check to run",
    )


def sent_alerts() -> int:
    return ScheduledMessage.objects.filter(kind=MessageKind.BOUND_BREACH, status=MessageStatus.SENT).count()


def test_one_email_per_manager_per_breach_with_the_real_worker(redis_cluster, manager, second_manager, uncovered_fee):
    services.bound_set(kind=BoundKind.COST_RULE, limit=Decimal(0), user=manager)
    redis_cluster.worker()
    # Not the current app: later tests would send their tasks to this test's stopped Redis.
    app = Celery("cockpit-alert-test", broker=redis_cluster.broker_url, set_as_current=False)
    try:
        for _ in range(3):
            run_check(redis_cluster, app)
        redis_cluster.wait_until(
            lambda: sent_alerts() == 2 and len(mails(redis_cluster)) == 2, timeout=60, what="two alerts"
        )
        time.sleep(1)  # a duplicate would have been sent by now
        assert len(mails(redis_cluster)) == 2
        assert Breach.objects.count() == 1

        uncovered_fee.cost_phone = Decimal("5.00")
        uncovered_fee.save()
        run_check(redis_cluster, app)
        assert Breach.objects.get().ended_at is not None

        uncovered_fee.cost_phone = None
        uncovered_fee.save()
        run_check(redis_cluster, app)
        run_check(redis_cluster, app)
        redis_cluster.wait_until(
            lambda: sent_alerts() == 4 and len(mails(redis_cluster)) == 4, timeout=60, what="two more alerts"
        )
        time.sleep(1)
        found = mails(redis_cluster)
        assert len(found) == len(set(found)) == 4
        assert Breach.objects.count() == 2
    finally:
        app.close()
