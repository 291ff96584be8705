"""Reliability with a real Celery worker and Redis: reminders are never lost, never sent twice.

The worker is a separate process (settings overrides in this process do not reach it), so it
gets its configuration from the environment: the pytest test database, Redis db 7, a queue of
its own, and the file-based mail backend writing into a temporary directory. The test queues
dispatch tasks repeatedly, kills the whole worker (SIGKILL, main process and children) twice in
the middle of the work, restarts it, lets it drain, runs reconciliation and then checks every
row against the mail files: each message is in the files exactly once and marked sent, or it
is reported as an unknown outcome (at most one per killed child process). Every wait is
bounded, and the worker is always killed at the end.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from celery import Celery
from django.conf import settings
from django.utils import timezone

from booking.models import Appointment
from booking.services import new_reference, new_token
from nudges.constants import MessageChannel, MessageKind, MessageStatus
from nudges.messaging import UNKNOWN_OUTCOME, messages_reconcile_stuck
from nudges.models import ScheduledMessage
from tests.factories import DeskFactory, ProductFactory

BROKER = "redis://127.0.0.1:6379/7"
MESSAGES = 600
CONCURRENCY = 2
KILL_AT = (MESSAGES // 5, MESSAGES // 2)  # sent rows at which the worker is killed
TASK = "nudges.tasks.dispatch_due_messages"
MESSAGE_ID = re.compile(rb"^Message-ID: <scheduled-message-(\d+)@kanaalwijzer>", re.MULTILINE | re.IGNORECASE)


def redis_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def database_url() -> str:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """A Celery worker in its own process group, so one SIGKILL takes it and its children."""

    def __init__(self, *, queue: str, mail_dir, log_path):
        self.queue, self.mail_dir, self.log_path = queue, mail_dir, log_path
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url(),
            "DB_POOL_MIN_SIZE": "1",
            "CELERY_BROKER_URL": BROKER,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(self.mail_dir),
            "NUDGES_MESSAGE_BATCH": "50",
            "LOG_LEVEL": "WARNING",
        }
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child, closed with it
        self.process = subprocess.Popen(  # noqa: S603 - a fixed command line, no user input
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel=WARNING",
                f"--concurrency={CONCURRENCY}",
                "--pool=prefork",
                "-Q",
                self.queue,
                "-n",
                f"{self.queue}-{self.starts}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def kill(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        try:
            self.process.wait(timeout=30)
        finally:
            self.process = None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def count(status: str) -> int:
    return ScheduledMessage.objects.filter(status=status).count()


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not redis_available(), reason="needs Redis on 127.0.0.1:6379")
def test_sigkilled_worker_neither_loses_nor_repeats_a_reminder(tmp_path):
    import redis

    product = ProductFactory(code="paspoort-celery", checklist_nl="Pasfoto", checklist_en="Photo")
    desk = DeskFactory(products=[product])
    base = timezone.now().replace(second=0, microsecond=0) + timedelta(days=2)
    appointments = Appointment.objects.bulk_create(
        Appointment(
            desk=desk,
            start=base + timedelta(minutes=10 * i),
            end=base + timedelta(minutes=10 * i + 10),
            channel="online",
            status="booked",
            reference=new_reference(),
            manage_token=new_token(),
            name=f"Inwoner {i}",
            email=f"inwoner{i}@example.nl",
            language="en" if i % 3 == 0 else "nl",
        )
        for i in range(MESSAGES)
    )
    Appointment.products.through.objects.bulk_create(
        Appointment.products.through(appointment_id=a.pk, product_id=product.pk) for a in appointments
    )
    due = timezone.now() - timedelta(minutes=1)
    ScheduledMessage.objects.bulk_create(
        ScheduledMessage(appointment=a, kind=MessageKind.REMINDER, channel=MessageChannel.EMAIL, due_at=due)
        for a in appointments
    )

    queue = f"kw-reminders-test-{uuid.uuid4().hex[:12]}"
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    log_path = tmp_path / "worker.log"
    broker = redis.Redis.from_url(BROKER)
    sender = Celery("reminders-test", broker=BROKER)
    worker = Worker(queue=queue, mail_dir=mail_dir, log_path=log_path)

    def work_until(done, *, timeout: float) -> None:
        """Keep a few dispatch tasks queued until ``done()``; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; worker log:\n{log_path.read_text(errors='replace')[-3000:]}")
            if not worker.alive():
                raise AssertionError(f"worker died; log:\n{log_path.read_text(errors='replace')[-3000:]}")
            if broker.llen(queue) < CONCURRENCY * 2:
                sender.send_task(TASK, queue=queue)
            time.sleep(0.02)

    kills = 0
    began = time.monotonic()
    try:
        worker.start()
        for threshold in KILL_AT:
            work_until(lambda t=threshold: count(MessageStatus.SENT) >= t, timeout=90)
            worker.kill()  # SIGKILL mid-dispatch: the main process and its children at once
            kills += 1
            worker.start()
        restarted_at = timezone.now()
        # Drained: nothing pending, and nothing in 'sending' that the live worker claimed.
        work_until(
            lambda: (
                not ScheduledMessage.objects.filter(status=MessageStatus.PENDING).exists()
                and not ScheduledMessage.objects.filter(
                    status=MessageStatus.SENDING, claimed_at__gte=restarted_at
                ).exists()
            ),
            timeout=120,
        )
        drained_seconds = time.monotonic() - began
    finally:
        worker.kill()
        sender.close()
        broker.delete(queue)
        broker.close()

    reported = messages_reconcile_stuck(
        now=timezone.now() + timedelta(minutes=settings.NUDGES_MESSAGE_STUCK_MINUTES + 1)
    )

    in_files: Counter[int] = Counter()
    for path in mail_dir.iterdir():
        in_files.update(int(found) for found in MESSAGE_ID.findall(path.read_bytes()))
    statuses = dict(ScheduledMessage.objects.values_list("pk", "status"))
    errors = dict(ScheduledMessage.objects.exclude(last_error="").values_list("pk", "last_error"))
    sent = {pk for pk, status in statuses.items() if status == MessageStatus.SENT}
    unknown = {
        pk for pk, status in statuses.items() if status == MessageStatus.FAILED and errors.get(pk) == UNKNOWN_OUTCOME
    }
    duplicates = {pk for pk, n in in_files.items() if n > 1}
    lost = (set(statuses) - sent - unknown) | {pk for pk in sent if in_files[pk] != 1}
    unknown_delivered = sum(1 for pk in unknown if in_files[pk])
    print(
        f"\nreminders reliability: messages={len(statuses)} sent={len(sent)} duplicates={len(duplicates)} "
        f"lost={len(lost)} reported-unknown={len(unknown)} (of which in the mail files: {unknown_delivered}) "
        f"kills={kills} worker-starts={worker.starts} time-to-drain={drained_seconds:.1f}s"
    )
    assert len(statuses) == MESSAGES
    assert not duplicates
    assert not lost
    assert reported == len(unknown) <= kills * CONCURRENCY
    assert set(in_files) <= set(statuses)
