"""CPU per API booking, in one process: what the rush's booking rate is made of (issue 14).

    .venv/bin/python benchmarks/booking_cpu.py                 # 200 bookings, about 20 s
    .venv/bin/python benchmarks/booking_cpu.py --bookings 300 --profile

Needs the database a rush run seeded (``benchmarks/rush.sh`` keeps it as ``<db>_seed``,
default ``kanaalwijzer_rush_seed``) and Redis. It copies that database to ``--db`` (dropped and
recreated) and migrates it, then books ``--bookings`` free times at the Stadhuis one after the other through
the API with Django's test client (production settings, the seeded integration client's token,
Redis as the cache), and prints per booking: the CPU of this process (the web process's share:
middleware, DRF, services, listeners, ORM), the CPU of the whole machine meanwhile (the rest is
PostgreSQL and Redis, when nothing else runs) and the queries of one booking. ``--profile``
writes a cProfile of the bookings to ``results/booking-cpu.prof``.

No HTTP server and no load generator: the CPU a booking costs on two cores, without the
contention the rush adds. Run it from the checkout to be measured (Celery's Django fix-up puts
the working directory first on ``sys.path``): to compare two commits, run each from its own
checkout, one after the other, on a quiet machine.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import random
import secrets
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"


def machine_cpu_seconds() -> float:
    """user + nice + system + irq + softirq of every CPU so far (Linux)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    return sum(int(fields[i]) for i in (0, 1, 2, 5, 6)) / os.sysconf("SC_CLK_TCK")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432"))
    p.add_argument("--seed-db", default=os.environ.get("BENCH_SEED_DB", "kanaalwijzer_rush_seed"))
    p.add_argument("--db", default="kanaalwijzer_booking_cpu", help="dropped and recreated from --seed-db")
    p.add_argument("--cache-url", default=os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/5"))
    p.add_argument("--bookings", type=int, default=200)
    p.add_argument("--profile", action="store_true")
    return p.parse_args()


def main() -> int:
    args = parse_args()
    with psycopg.connect(f"{args.pg_url}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.db}" TEMPLATE "{args.seed_db}"')
    key = secrets.token_urlsafe(40)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": key,
            "NUDGES_UNIT_HASH_KEY": key[::-1],
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_ALLOWED_HOSTS": "testserver",
            "API_NUM_PROXIES": "none",
            "DATABASE_URL": f"{args.pg_url}/{args.db}",
            "CACHE_URL": args.cache_url,
            "API_THROTTLE_INTEGRATION": "1000000/second",
            "LOG_LEVEL": "WARNING",
        }
    )
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from booking.integrations import integration_client_create
    from booking.models import Location

    call_command("migrate", verbosity=0)  # the seed may predate this checkout's migrations
    cache.clear()
    _client, token = integration_client_create(
        name=f"booking-cpu-{secrets.token_hex(3)}", scopes=["appointments"], send_confirmation_emails=False
    )
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    location = Location.objects.get(name="Stadhuis").pk
    first = date.today() + timedelta(days=3)
    starts: list[str] = []
    for offset in (0, 60):  # two windows of the API's longest range
        answer = api.get(
            "/api/v1/availability/",
            {
                "product": "paspoort",
                "location": location,
                "date_from": (first + timedelta(days=offset)).isoformat(),
                "date_to": (first + timedelta(days=offset + 59)).isoformat(),
            },
        )
        starts += [slot["start"] for slot in answer.json()["slots"]]
    random.Random(7).shuffle(starts)
    if len(starts) < args.bookings + 1:
        print(f"only {len(starts)} free times; ask for fewer bookings", file=sys.stderr)
        return 2

    def book(i: int) -> int:
        body = {
            "products": ["paspoort"],
            "persons": 1,
            "location": location,
            "start": starts[i],
            "name": f"Cpu {i}",
            "email": f"cpu-{i}-{secrets.token_hex(4)}@example.test",
        }
        return api.post("/api/v1/appointments/", json.dumps(body), content_type="application/json").status_code

    with CaptureQueriesContext(connection) as queries:  # the first also reads the schedule
        book(0)
    with CaptureQueriesContext(connection) as captured:
        assert book(1) == 201
    queries = len(captured)  # now: the log is emptied by every later request
    profile = cProfile.Profile() if args.profile else None
    statuses: dict[int, int] = {}
    machine, process, wall = machine_cpu_seconds(), time.process_time(), time.perf_counter()
    if profile:
        profile.enable()
    for i in range(2, args.bookings + 2):
        status = book(i)
        statuses[status] = statuses.get(status, 0) + 1
    if profile:
        profile.disable()
        RESULTS.mkdir(exist_ok=True)
        profile.dump_stats(RESULTS / "booking-cpu.prof")
    wall = time.perf_counter() - wall
    process = time.process_time() - process
    machine = machine_cpu_seconds() - machine
    n = args.bookings
    print(f"{n} bookings, statuses {statuses}, load {os.getloadavg()[0]:.2f}")
    print(f"queries per booking: {queries} (BEGIN and COMMIT included)")
    print(f"per booking: this process {process / n * 1000:.1f} ms CPU, wall {wall / n * 1000:.1f} ms")
    print(
        f"per booking: machine {machine / n * 1000:.1f} ms CPU "
        f"(others: PostgreSQL, Redis, anything else running: {(machine - process) / n * 1000:.1f} ms)"
    )
    if profile:
        print(f"profile: {RESULTS / 'booking-cpu.prof'}" + " (with the profiler's own overhead)")
    return 0 if statuses == {201: n} else 1


if __name__ == "__main__":
    sys.exit(main())
