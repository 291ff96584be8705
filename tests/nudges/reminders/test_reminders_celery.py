"""Reliability with real Celery processes and a real Redis: reminders are never lost, never sent twice.

Three situations, each with 1,000 due reminders in the pytest test database:

- a worker killed with SIGKILL (main process and children) twice in the middle of the work;
- two ``celery beat`` schedulers running at once (the design wants one; a second one by mistake
  must not double anything);
- the broker gone for several seconds (Redis killed and started again, empty) while rows are
  being sent.

Every test starts its own ``redis-server`` on a free port, so it can kill it and never touches
the Redis of the developer or of another test run. Worker and beat are separate processes
(settings overrides in this process do not reach them): they get their configuration from the
environment, with the file-based mail backend writing into a temporary directory. Afterwards
every row is checked against the mail files: each message is in the files exactly once and
marked sent, or it is reported as an unknown outcome (only after a SIGKILL, at most one per
killed child). Every wait is bounded, and every process is killed at the end, also on failure.
Run with ``-s`` to see the figures.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.utils import timezone

from booking.models import Appointment
from booking.services import new_reference, new_token
from nudges.constants import MessageChannel, MessageKind, MessageStatus
from nudges.models import ScheduledMessage
from nudges.outbox.dispatch import UNKNOWN_OUTCOME, messages_reconcile_stuck
from tests.factories import DeskFactory, ProductFactory

TASK = "nudges.tasks.dispatch_due_messages"
QUEUE = "celery"  # the default queue: each test has a Redis of its own
CONCURRENCY = 2
BATCH = 50  # rows per dispatch task: short tasks, so kills and outages hit mid-batch
MESSAGE_ID = re.compile(rb"^Message-ID: <scheduled-message-(\d+)@", re.MULTILINE | re.IGNORECASE)

pytestmark = [
    pytest.mark.celery,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs the redis-server binary"),
]


# --- processes ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Process:
    """A child process in its own session, so one SIGKILL takes it and its children."""

    def __init__(self, name: str, argv: list[str], *, env: dict[str, str], log_path: Path):
        self.name, self.argv, self.env, self.log_path = name, argv, env, log_path
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - a fixed command line, no user input
                self.argv,
                cwd=settings.BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        try:
            self.process.wait(timeout=30)
        finally:
            self.process = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def exited(self) -> bool:
        """Started, not killed by the test, and gone anyway."""
        return self.process is not None and self.process.poll() is not None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Cluster:
    """One test's Redis, workers and beats. ``stop`` kills them all; the ``cluster`` fixture
    calls it whatever happens."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.mail_dir = tmp_path / "mail"
        self.mail_dir.mkdir()
        self.port = free_port()
        self.broker_url = f"redis://127.0.0.1:{self.port}/0"
        self.processes: list[Process] = []
        self.redis = self._add(
            "redis",
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(tmp_path),
            ],
        )
        self.client = redis.Redis(port=self.port, socket_timeout=5)

    def _add(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Process:
        process = Process(name, argv, env=env or dict(os.environ), log_path=self.tmp_path / f"{name}.log")
        self.processes.append(process)
        return process

    def _celery_env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url(),
            "DB_POOL_MIN_SIZE": "1",
            "CELERY_BROKER_URL": self.broker_url,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(self.mail_dir),
            "NUDGES_MESSAGE_BATCH": str(BATCH),
            "LOG_LEVEL": "WARNING",
            **extra,
        }

    def start_redis(self) -> None:
        self.redis.start()
        self.wait_until(self.redis_up, timeout=10, what="redis-server to accept connections")

    def redis_up(self) -> bool:
        try:
            return bool(self.client.ping())
        except redis.ConnectionError:
            return False

    def worker(self) -> Process:
        name = f"worker{sum(p.name.startswith('worker') for p in self.processes) + 1}"
        worker = self._add(
            name,
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=WARNING"]
            + [f"--concurrency={CONCURRENCY}", "--pool=prefork", "-Q", QUEUE, "-n", f"{name}@%h"]
            + ["--without-gossip", "--without-mingle", "--without-heartbeat"],
            self._celery_env(),
        )
        worker.start()
        return worker

    def beat(self, *, interval_seconds: int) -> Process:
        """A beat with a schedule file of its own, sending the dispatch task every few seconds.
        INFO logging, so its log shows each task it sent ("Sending due task")."""
        name = f"beat{sum(p.name.startswith('beat') for p in self.processes) + 1}"
        beat = self._add(
            name,
            [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO"]
            + ["--schedule", str(self.tmp_path / f"{name}-schedule")],
            self._celery_env(NUDGES_DISPATCH_INTERVAL_SECONDS=str(interval_seconds)),
        )
        beat.start()
        return beat

    def diagnostics(self) -> str:
        return "\n".join(f"--- {p.name} (last lines) ---\n{p.log()[-2500:]}" for p in self.processes)

    def wait_until(
        self, done: Callable[[], bool], *, timeout: float, what: str, feed: Callable[[], None] | None = None
    ) -> None:
        """Poll ``done()`` (calling ``feed()`` in between); fail after ``timeout`` seconds or as
        soon as a process the test did not kill has exited."""
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{self.diagnostics()}")
            if dead := [p.name for p in self.processes if p.exited()]:
                raise AssertionError(f"{', '.join(dead)} exited while waiting for {what}\n{self.diagnostics()}")
            if feed is not None:
                feed()
            time.sleep(0.05)

    def stop(self) -> None:
        # Workers and beats first: a worker whose Redis vanished would only log reconnects.
        for process in sorted(self.processes, key=lambda p: p is self.redis):
            with contextlib.suppress(Exception):
                process.kill()
        self.client.close()


@pytest.fixture
def cluster(tmp_path) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path)
    try:
        cluster.start_redis()
        yield cluster
    finally:
        cluster.stop()


# --- data and checks ----------------------------------------------------------------------


def seed_due_reminders(count: int) -> None:
    """``count`` booked appointments in the coming days, each with a reminder due a minute ago."""
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
        for i in range(count)
    )
    Appointment.products.through.objects.bulk_create(
        Appointment.products.through(appointment_id=a.pk, product_id=product.pk) for a in appointments
    )
    due = timezone.now() - timedelta(minutes=1)
    ScheduledMessage.objects.bulk_create(
        ScheduledMessage(appointment=a, kind=MessageKind.REMINDER, channel=MessageChannel.EMAIL, due_at=due)
        for a in appointments
    )


def count(status: str) -> int:
    return ScheduledMessage.objects.filter(status=status).count()


def drained(*, claimed_since: datetime | None = None) -> bool:
    """Nothing pending, and nothing in 'sending' (or, after kills, nothing that a live worker,
    one started after ``claimed_since``, is still sending)."""
    sending = ScheduledMessage.objects.filter(status=MessageStatus.SENDING)
    if claimed_since is not None:
        sending = sending.filter(claimed_at__gte=claimed_since)
    return not ScheduledMessage.objects.filter(status=MessageStatus.PENDING).exists() and not sending.exists()


@dataclass
class Outcome:
    messages: int
    sent: int
    duplicates: int
    lost: int
    unknown: int
    unknown_in_files: int
    strays: int  # Message-IDs in the files that are not rows of this test

    def line(self) -> str:
        return (
            f"messages={self.messages} sent={self.sent} duplicates={self.duplicates} lost={self.lost} "
            f"reported-unknown={self.unknown} (in the mail files: {self.unknown_in_files})"
        )


def outcome(mail_dir: Path) -> Outcome:
    """Every row against the mail files. Lost: neither sent exactly once (marked sent and in the
    files once) nor reported as an unknown outcome."""
    in_files: Counter[int] = Counter()
    for path in mail_dir.iterdir():
        in_files.update(int(found) for found in MESSAGE_ID.findall(path.read_bytes()))
    rows = list(ScheduledMessage.objects.values_list("pk", "status", "last_error"))
    sent = {pk for pk, status, _ in rows if status == MessageStatus.SENT}
    unknown = {pk for pk, status, error in rows if status == MessageStatus.FAILED and error == UNKNOWN_OUTCOME}
    lost = ({pk for pk, _, _ in rows} - sent - unknown) | {pk for pk in sent if in_files[pk] != 1}
    return Outcome(
        messages=len(rows),
        sent=len(sent),
        duplicates=sum(1 for n in in_files.values() if n > 1),
        lost=len(lost),
        unknown=len(unknown),
        unknown_in_files=sum(1 for pk in unknown if in_files[pk]),
        strays=len(set(in_files) - {pk for pk, _, _ in rows}),
    )


def sends(beat: Process) -> int:
    return beat.log().count("Sending due task dispatch-due-messages")


# --- tests --------------------------------------------------------------------------------


def test_sigkilled_worker_neither_loses_nor_repeats_a_reminder(cluster):
    """The test keeps a few dispatch tasks queued (no beat, so the kills land quickly) and kills
    the whole worker twice mid-dispatch."""
    messages = 1000
    kill_at = (messages // 5, messages // 2)  # sent rows at which the worker is killed
    seed_due_reminders(messages)
    # Not the current app: shared tasks in this process (eager in tests) must stay on the project's app.
    sender = Celery("reminders-test", broker=cluster.broker_url, set_as_current=False)

    def feed() -> None:
        if cluster.client.llen(QUEUE) < CONCURRENCY * 2:
            sender.send_task(TASK, queue=QUEUE)

    kills = 0
    began = time.monotonic()
    try:
        worker = cluster.worker()
        for threshold in kill_at:
            cluster.wait_until(
                lambda t=threshold: count(MessageStatus.SENT) >= t, timeout=90, what=f"{threshold} sent", feed=feed
            )
            worker.kill()  # SIGKILL mid-dispatch: the main process and its children at once
            kills += 1
            worker.start()
        restarted_at = timezone.now()
        cluster.wait_until(
            lambda: drained(claimed_since=restarted_at), timeout=120, what="the outbox to drain", feed=feed
        )
        drain_seconds = time.monotonic() - began
    finally:
        sender.close()
        cluster.stop()

    # What the periodic task does once the stuck rows are old enough.
    reported = messages_reconcile_stuck(
        now=timezone.now() + timedelta(minutes=settings.NUDGES_MESSAGE_STUCK_MINUTES + 1)
    )
    result = outcome(cluster.mail_dir)
    print(
        f"\nreminders, worker SIGKILLed: {result.line()} kills={kills} worker-starts={worker.starts} "
        f"time-to-drain={drain_seconds:.1f}s"
    )
    assert result.messages == messages
    assert result.duplicates == 0
    assert result.lost == 0
    assert reported == result.unknown <= kills * CONCURRENCY
    assert result.strays == 0


def test_two_beat_schedulers_at_once_neither_lose_nor_repeat_a_reminder(cluster):
    """Two beats each send the dispatch task every second to one worker (two children), so
    dispatch tasks from both run side by side on the same due rows."""
    messages = 1000
    seed_due_reminders(messages)
    began = time.monotonic()
    try:
        cluster.worker()
        beats = [cluster.beat(interval_seconds=1), cluster.beat(interval_seconds=1)]
        cluster.wait_until(drained, timeout=120, what="the outbox to drain")
        drain_seconds = time.monotonic() - began
    finally:
        cluster.stop()

    result = outcome(cluster.mail_dir)
    tasks_sent = [sends(beat) for beat in beats]
    print(
        f"\nreminders, two beats: {result.line()} dispatch-tasks-sent-per-beat={tasks_sent} "
        f"time-to-drain={drain_seconds:.1f}s"
    )
    assert all(n >= 2 for n in tasks_sent), "both beats must have sent dispatch tasks"
    assert result.messages == result.sent == messages
    assert result.duplicates == result.lost == result.unknown == result.strays == 0


def test_broker_down_for_a_while_then_everything_is_caught_up(cluster):
    """Redis is killed while rows are being sent and started again, empty (queued and unacked
    task messages are gone), on the same port after several seconds. The same worker and the
    same beat carry on: both reconnect by themselves, and the beat's next tasks send the rest.
    On Celery 5.7.0 the worker exits on the lost connection instead (hence the pin to 5.6.3)."""
    messages, outage_seconds = 1000, 5
    seed_due_reminders(messages)
    began = time.monotonic()
    try:
        worker = cluster.worker()
        beat = cluster.beat(interval_seconds=1)
        worker_pid, beat_pid = worker.pid, beat.pid
        cluster.wait_until(lambda: count(MessageStatus.SENT) >= messages // 5, timeout=90, what="the first sends")
        sent_before = count(MessageStatus.SENT)
        cluster.redis.kill()
        time.sleep(outage_seconds)
        sent_during = count(MessageStatus.SENT) - sent_before
        pending_at_restart = count(MessageStatus.PENDING)
        beat_sends_before_restart = sends(beat)
        cluster.start_redis()
        restarted = time.monotonic()
        cluster.wait_until(drained, timeout=90, what="the outbox to catch up after the restart")
        catch_up_seconds = time.monotonic() - restarted
        total_seconds = time.monotonic() - began
        same_processes = (worker.pid, beat.pid) == (worker_pid, beat_pid) and not (worker.exited() or beat.exited())
        beat_log, worker_log = beat.log(), worker.log()
    finally:
        cluster.stop()

    result = outcome(cluster.mail_dir)
    beat_errors = beat_log.count("Message Error")
    print(
        f"\nreminders, broker down {outage_seconds}s: {result.line()} sent-before={sent_before} "
        f"sent-during-outage={sent_during} pending-at-restart={pending_at_restart} "
        f"beat-send-errors={beat_errors} beat-sends-after-restart={sends(beat) - beat_sends_before_restart} "
        f"catch-up={catch_up_seconds:.1f}s total={total_seconds:.1f}s"
    )
    # The outage really hit: rows were still due, the worker saw the connection go, the beat
    # failed to send, and the same two processes (never restarted) did the rest.
    assert pending_at_restart > 0
    assert "Connection to broker lost" in worker_log
    assert beat_errors > 0
    assert same_processes
    assert result.messages == result.sent == messages
    assert result.duplicates == result.lost == result.unknown == result.strays == 0
