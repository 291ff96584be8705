"""Benchmark: 10,000 due reminders, sent by one plain process and by two Celery workers.

One run does everything and stops everything it started:

1. drops and recreates the database ``kw_bench_reminders``, migrates it (production settings)
   and seeds 10,000 booked appointments, each with one e-mail reminder that is already due
   (bulk INSERTs);
2. **(a) baseline**: this process calls what the dispatch task calls,
   ``messages_reconcile_stuck()`` and ``messages_dispatch_due()``, in a loop until nothing is
   due: the same code path as a worker (reconcile, claim one row with SKIP LOCKED, render, send,
   mark sent), with no broker and no Celery in between (the task itself would queue a follow-up
   task while rows are due);
3. resets the rows to pending (and empties the attempt log), VACUUM ANALYZE;
4. **(b)**: starts a private ``redis-server`` on a free port and two Celery workers
   (prefork, concurrency 1 each), waits until both answer a ping, then keeps a few dispatch
   tasks queued (as a beat with no pause between ticks would) until nothing is due;
5. checks both runs against the mail files (the file-based mail backend, a directory per
   run): every message in the files exactly once and marked sent, none lost;
6. prints a summary and writes it to benchmarks/results/reminders-latest.md (and .json), with
   the CPU time the sending processes used per message and how busy the whole machine was.

Exit code 0 when both runs sent every message exactly once. The temporary directory (mail files,
worker and Redis logs) is removed then, and kept when a check failed.

Usage: ``.venv/bin/python benchmarks/reminders.py [--messages 10000] [--workers 2]
[--concurrency 1]``. Needs PostgreSQL on 127.0.0.1:5432 (user postgres) and the
``redis-server`` binary; it touches no other database and no other Redis.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import redis

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
DB_NAME = "kw_bench_reminders"
SERVER_URL = "postgres://postgres@127.0.0.1:5432"
TASK = "nudges.tasks.dispatch_due_messages"
QUEUE = "celery"
TZ = ZoneInfo("Europe/Amsterdam")
MESSAGE_ID = re.compile(rb"^Message-ID: <scheduled-message-(\d+)@", re.MULTILINE | re.IGNORECASE)


def log(message: str) -> None:
    print(f"[{datetime.now(TZ).strftime('%H:%M:%S')}] {message}", flush=True)


def load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def machine_ticks() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def busy_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    """How busy the whole machine was between two ``machine_ticks()``: 1.0 = every CPU, all the time."""
    return (after[0] - before[0]) / max(1, after[1] - before[1])


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its live descendants (/proc)."""
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(child) for child in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recreate_database() -> None:
    with psycopg.connect(f"{SERVER_URL}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def seed(count: int) -> None:
    """Ten desks at two locations, 10-minute appointments on working days from the day after
    tomorrow, passport or BRP extract (online alternative: a third link in the mail), a third
    in English; one e-mail reminder each, due a minute ago."""
    from django.utils import timezone

    from booking.models import Appointment, Desk, Location, Product
    from booking.services import new_reference, new_token
    from nudges.constants import MessageChannel, MessageKind
    from nudges.models import ScheduledMessage

    products = [
        Product.objects.create(
            code="paspoort",
            name_nl="Paspoort",
            name_en="Passport",
            minutes_per_person=10,
            requires_presence=True,
            fee_counter="84.05",
            checklist_nl="Pasfoto\nOud paspoort",
            checklist_en="Photo\nOld passport",
        ),
        Product.objects.create(
            code="uittreksel-brp",
            name_nl="Uittreksel BRP",
            name_en="BRP extract",
            minutes_per_person=10,
            fee_counter="9.40",
            fee_online="6.90",
            online_url="https://example.nl/uittreksel",
        ),
    ]
    desks = []
    for name in ("Stadhuis", "Stadskantoor Noord"):
        location = Location.objects.create(name=name, street="Markt 1", postcode="1234 AB", city="Kanaalstad")
        for number in range(1, 6):
            desk = Desk.objects.create(location=location, name=f"Balie {number}")
            desk.products.set(products)
            desks.append(desk)
    starts = []
    day = timezone.localdate() + timedelta(days=2)
    while len(starts) < count:
        if day.weekday() < 5:
            for slot in range(48):  # 09:00-17:00
                start = datetime(day.year, day.month, day.day, 9, tzinfo=TZ) + timedelta(minutes=10 * slot)
                starts.extend((desk, start) for desk in desks)
        day += timedelta(days=1)
    appointments = Appointment.objects.bulk_create(
        (
            Appointment(
                desk=desk,
                start=start,
                end=start + timedelta(minutes=10),
                channel="online",
                status="booked",
                reference=new_reference(),
                manage_token=new_token(),
                name=f"Inwoner {i}",
                email=f"inwoner{i}@example.nl",
                language="en" if i % 3 == 0 else "nl",
            )
            for i, (desk, start) in enumerate(starts[:count])
        ),
        batch_size=2000,
    )
    Appointment.products.through.objects.bulk_create(
        (
            Appointment.products.through(appointment_id=a.pk, product_id=products[i % 2].pk)
            for i, a in enumerate(appointments)
        ),
        batch_size=5000,
    )
    due = timezone.now() - timedelta(minutes=1)
    ScheduledMessage.objects.bulk_create(
        (
            ScheduledMessage(appointment=a, kind=MessageKind.REMINDER, channel=MessageChannel.EMAIL, due_at=due)
            for a in appointments
        ),
        batch_size=5000,
    )


def outstanding() -> int:
    """Rows still to send: pending or being sent."""
    from nudges.constants import MessageStatus
    from nudges.models import ScheduledMessage

    return ScheduledMessage.objects.filter(status__in=[MessageStatus.PENDING, MessageStatus.SENDING]).count()


def reset_rows() -> None:
    """Back to due and unsent, as after seeding. Raw SQL: the attempt log is append-only in
    the application, not for a benchmark database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE nudges_scheduledmessage SET status = 'pending', attempts = 0, sent_at = NULL, "
            "claimed_at = NULL, provider_id = '', last_error = ''"
        )
        cursor.execute("TRUNCATE nudges_deliveryattempt")
    for table in ("nudges_scheduledmessage", "nudges_deliveryattempt"):
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {table}")


def check(mail_dir: Path, messages: int) -> dict:
    """Every row against the mail files."""
    from nudges.constants import MessageStatus
    from nudges.models import ScheduledMessage

    in_files: Counter[int] = Counter()
    for path in mail_dir.iterdir():
        in_files.update(int(found) for found in MESSAGE_ID.findall(path.read_bytes()))
    rows = dict(ScheduledMessage.objects.values_list("pk", "status"))
    sent = {pk for pk, status in rows.items() if status == MessageStatus.SENT}
    return {
        "rows": len(rows),
        "sent": len(sent),
        "duplicates": sum(1 for n in in_files.values() if n > 1),
        "lost": len((set(rows) - sent) | {pk for pk in sent if in_files[pk] != 1}),
        "ok": len(rows) == len(sent) == messages
        and all(in_files[pk] == 1 for pk in rows)
        and len(in_files) == messages,
    }


def run_baseline(messages: int) -> dict:
    from nudges.outbox.dispatch import messages_dispatch_due, messages_reconcile_stuck

    log(f"(a) one process, no Celery: the dispatch task's work in a loop (load {load()})")
    ticks, cpu, began = machine_ticks(), time.process_time(), time.perf_counter()
    while outstanding():
        messages_reconcile_stuck()
        messages_dispatch_due()
    seconds = time.perf_counter() - began
    return {
        "seconds": seconds,
        "per_second": messages / seconds,
        "sender_cpu_ms_per_message": 1000 * (time.process_time() - cpu) / messages,
        "machine_busy": busy_share(ticks, machine_ticks()),
        "load_after": load(),
    }


def run_workers(messages: int, *, workers: int, concurrency: int, mail_dir: Path, work_dir: Path) -> dict:
    from celery import Celery

    port = free_port()
    broker_url = f"redis://127.0.0.1:{port}/0"
    env = {**os.environ, "CELERY_BROKER_URL": broker_url, "EMAIL_FILE_PATH": str(mail_dir)}
    processes: list[subprocess.Popen] = []

    def start(argv: list[str], name: str) -> None:
        with open(work_dir / f"{name}.log", "ab") as out:
            processes.append(
                subprocess.Popen(argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
            )

    sender = Celery("reminders-bench", broker=broker_url)
    client = redis.Redis(port=port)
    try:
        start(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            + ["--dir", str(work_dir)],
            "redis",
        )
        wait(lambda: ping(client), 10, "redis-server")
        for n in range(1, workers + 1):
            start(
                [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=WARNING", "--pool=prefork"]
                + [f"--concurrency={concurrency}", "-Q", QUEUE, "-n", f"bench{n}@%h", "--without-gossip"]
                + ["--without-mingle", "--without-heartbeat"],
                f"worker{n}",
            )
        wait(lambda: len(sender.control.ping(timeout=0.5)) >= workers, 60, "the workers to answer a ping")
        log(f"(b) {workers} Celery workers × concurrency {concurrency}, fed by this process (load {load()})")
        workers_cpu = sum(tree_cpu_seconds(p.pid) for p in processes[1:])
        ticks, began = machine_ticks(), time.perf_counter()
        tasks = 0
        while outstanding():
            while client.llen(QUEUE) < workers:
                sender.send_task(TASK, queue=QUEUE)
                tasks += 1
            if any(p.poll() is not None for p in processes):
                raise RuntimeError(f"a worker or redis-server exited; see {work_dir}")
            time.sleep(0.1)
        seconds = time.perf_counter() - began
        return {
            "seconds": seconds,
            "per_second": messages / seconds,
            "sender_cpu_ms_per_message": 1000
            * (sum(tree_cpu_seconds(p.pid) for p in processes[1:]) - workers_cpu)
            / messages,
            "machine_busy": busy_share(ticks, machine_ticks()),
            "tasks_sent": tasks,
            "load_after": load(),
        }
    finally:
        for process in processes[::-1]:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        sender.close()
        client.close()


def ping(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def wait(done, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.2)


def report(summary: dict) -> str:
    a, b = summary["a"], summary["b"]
    return "\n".join(
        [
            f"# Reminders benchmark, {summary['started']}",
            "",
            f"{summary['messages']:,} due e-mail reminders; load average at start {summary['load_at_start']}.",
            "",
            "| run | wall time | messages/s | ratio to (a) | sent exactly once | duplicates | lost "
            "| sender CPU per message | machine busy | load after |",
            "|---|---|---|---|---|---|---|---|---|---|",
            f"| (a) one process, no Celery | {a['seconds']:.1f} s | {a['per_second']:.1f} | 1.00 "
            f"| {a['check']['sent']:,} | {a['check']['duplicates']} | {a['check']['lost']} "
            f"| {a['sender_cpu_ms_per_message']:.1f} ms | {a['machine_busy']:.0%} | {a['load_after']} |",
            f"| (b) {summary['workers']} workers × concurrency {summary['concurrency']} | {b['seconds']:.1f} s "
            f"| {b['per_second']:.1f} | **{b['per_second'] / a['per_second']:.2f}** | {b['check']['sent']:,} "
            f"| {b['check']['duplicates']} | {b['check']['lost']} "
            f"| {b['sender_cpu_ms_per_message']:.1f} ms | {b['machine_busy']:.0%} | {b['load_after']} |",
            "",
            f"(b) sent {b['tasks_sent']} dispatch tasks (batch {summary['batch']}).",
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # run the finally blocks

    RESULTS.mkdir(exist_ok=True)
    work_dir = Path(tempfile.mkdtemp(prefix="kw-bench-reminders-"))
    mail_a, mail_b = work_dir / "mail-a", work_dir / "mail-b"
    mail_a.mkdir()
    mail_b.mkdir()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        NUDGES_UNIT_HASH_KEY=secrets.token_urlsafe(50),
        DJANGO_SECURE_SSL_REDIRECT="0",
        DATABASE_URL=f"{SERVER_URL}/{DB_NAME}",
        KANAALWIJZER_VAR_DIR=str(RESULTS / "var"),
        API_NUM_PROXIES="none",
        CACHE_URL=os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/6"),
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail_a),
        LOG_LEVEL="WARNING",
    )
    summary = {
        "started": datetime.now(TZ).strftime("%Y-%m-%d %H:%M %Z"),
        "messages": args.messages,
        "workers": args.workers,
        "concurrency": args.concurrency,
        "load_at_start": load(),
        "machine": f"{os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}",
        "work_dir": str(work_dir),
    }
    log(f"database {DB_NAME}: recreate, migrate")
    recreate_database()
    subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=REPO, check=True)
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.conf import settings

    summary["batch"] = settings.NUDGES_MESSAGE_BATCH
    log(f"seed {args.messages:,} appointments with a due reminder each")
    began = time.perf_counter()
    seed(args.messages)
    summary["seed_seconds"] = round(time.perf_counter() - began, 1)

    summary["a"] = run_baseline(args.messages)
    summary["a"]["check"] = check(mail_a, args.messages)
    log(f"(a) {summary['a']['seconds']:.1f} s, {summary['a']['per_second']:.1f}/s, {summary['a']['check']}")
    reset_rows()
    summary["b"] = run_workers(
        args.messages, workers=args.workers, concurrency=args.concurrency, mail_dir=mail_b, work_dir=work_dir
    )
    summary["b"]["check"] = check(mail_b, args.messages)
    log(f"(b) {summary['b']['seconds']:.1f} s, {summary['b']['per_second']:.1f}/s, {summary['b']['check']}")

    text = report(summary)
    print("\n" + text)
    (RESULTS / "reminders-latest.md").write_text(text + "\n")
    (RESULTS / "reminders-latest.json").write_text(json.dumps(summary, indent=2) + "\n")
    if summary["a"]["check"]["ok"] and summary["b"]["check"]["ok"]:
        shutil.rmtree(work_dir)  # 20,000 mail files; kept (with the worker logs) when a check failed
        return 0
    log(f"a check failed: mail files and logs are in {work_dir}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
