"""Benchmark of the manager's cockpit at scale: 1,000,000 contacts, 1,000,000 exposures and
200,000 appointments; every cockpit page measured (p50/p95 over repeated requests).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kanaalwijzer_cockpit_bench \\
        .venv/bin/python benchmarks/cockpit.py [--requests 20] [--skip-seed]

It drops and recreates that database, migrates, seeds the appointments with ``seed.py``,
then contacts and experiment logs with one INSERT … SELECT generate_series each (SQL, so
seeding takes a minute rather than an hour) and the demo's bounds plus a lead-time bound per
product and location, runs the roll-up job (timed: that is what Celery does every 15 minutes;
the experiment snapshots from nothing and on the next run) and the daily bound check once,
and then requests each page through Django's test client as the manager, who has given a
TOTP code (no network, no web server: the figure is the server's own time). Writes
``benchmarks/results/cockpit.md``, with the load average before and after the requests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

CONTACTS = 1_000_000
EXPOSURES = 1_000_000
DAYS = 182
PAGES = [
    ("kaders", "/medewerkers/cockpit/"),
    ("kanaalmix (week)", "/medewerkers/cockpit/kanalen/?period=week"),
    ("kanaalmix (maand, product)", "/medewerkers/cockpit/kanalen/?period=month&product=uittreksel-brp"),
    ("kosten + rekenhulp", "/medewerkers/cockpit/kosten/?period=month&product=uittreksel-brp&percent=20"),
    ("nudges", "/medewerkers/cockpit/nudges/"),
    ("maandrapport", "/medewerkers/cockpit/rapport/"),
    ("export kosten.xlsx", "/medewerkers/cockpit/export/kosten.xlsx?period=month"),
    ("export nudges.csv", "/medewerkers/cockpit/export/nudges.csv"),
]


def run(*argv: str) -> None:
    subprocess.run(argv, check=True, cwd=ROOT)


def recreate_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    run("dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", name)
    run("createdb", "-h", "127.0.0.1", "-U", "postgres", name)
    run(sys.executable, "manage.py", "migrate", "-v0")
    (ROOT / "benchmarks" / "results").mkdir(exist_ok=True)
    run(sys.executable, "benchmarks/seed.py", "--out", "benchmarks/results/cockpit-seed.json")


SEED_CONTACTS = """
INSERT INTO nudges_contact (channel_id, moment, day, outcome, handling_seconds, source, external_id, created_at,
                            script_answer, online_reference, survey_consent)
SELECT ch.id, m, (m AT TIME ZONE 'Europe/Amsterdam')::date,
       CASE WHEN g %% 23 = 0 THEN 'not_handled' ELSE 'answered' END, 60 + g %% 600, 'bench', 'b' || g, now(),
       '', '', false
FROM generate_series(1, %(n)s) AS g
CROSS JOIN LATERAL (SELECT now() - (g %% (%(days)s * 24 * 60)) * interval '1 minute' AS m) t
JOIN LATERAL (SELECT id FROM nudges_contactchannel ORDER BY position OFFSET (g %% 7) LIMIT 1) ch ON true
"""
SEED_CONTACT_PRODUCTS = """
INSERT INTO nudges_contact_products (contact_id, product_id)
SELECT c.id, p.id FROM nudges_contact c
JOIN LATERAL (SELECT id FROM booking_product ORDER BY id OFFSET (c.id % 5) LIMIT 1) p ON true
WHERE c.source = 'bench'
"""
SEED_EXPOSURES = """
INSERT INTO nudges_exposure (experiment_id, variant_id, unit_hash, touchpoint, product_id, source, fallback, exposed_at)
SELECT %(experiment)s, v.id, md5('u' || g) || md5('v' || g), 'product_choice', %(product)s, 'web', false,
       now() - (g %% (%(days)s * 24 * 60)) * interval '1 minute'
FROM generate_series(1, %(n)s) AS g
JOIN LATERAL (SELECT id FROM nudges_variant WHERE experiment_id = %(experiment)s ORDER BY id
              OFFSET (g %% %(arms)s) LIMIT 1) v ON true
"""
SEED_OUTCOMES = """
INSERT INTO nudges_outcome (experiment_id, variant_id, unit_hash, kind, source, occurred_at)
SELECT e.experiment_id, e.variant_id, e.unit_hash, k.kind, 'web', e.exposed_at + interval '5 minutes'
FROM nudges_exposure e
CROSS JOIN (VALUES ('booked'), ('chose_online')) AS k(kind)
WHERE e.experiment_id = %(experiment)s
  AND ((k.kind = 'booked' AND abs(('x' || substr(e.unit_hash, 1, 8))::bit(32)::int) %% 100 < 55)
    OR (k.kind = 'chose_online' AND abs(('x' || substr(e.unit_hash, 9, 8))::bit(32)::int) %% 100 < 22))
"""


def seed_cockpit() -> dict:
    from django.contrib.auth.models import Group
    from django.db import connection

    from booking.models import Product
    from booking.staff.demo import seed_staff_users
    from nudges.constants import ExperimentStatus, Metric, Touchpoint
    from nudges.demo import seed_interventions
    from nudges.experiments import services
    from nudges.models import Experiment
    from nudges.roles import nudges_roles_ensure

    seed_staff_users()
    nudges_roles_ensure()
    assert Group.objects.filter(name="Manager").exists()
    interventions = seed_interventions()
    products = list(Product.objects.filter(code__in=["uittreksel-brp", "verhuizing"]))
    timings = {}
    started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute(SEED_CONTACTS, {"n": CONTACTS, "days": DAYS})
        cursor.execute(SEED_CONTACT_PRODUCTS)
    timings["seed contacts"] = time.monotonic() - started
    # Two experiments share the million exposures: a finished one and a running one.
    started = time.monotonic()
    for i, status in enumerate((ExperimentStatus.FINISHED, ExperimentStatus.RUNNING)):
        experiment = services.experiment_create(
            name=f"Bench {i}",
            purpose_nl="Benchmark",
            products=products,
            variants=[
                {"key": "controle", "intervention": None, "weight": 1},
                {"key": "easy", "intervention": interventions["direct-online-link"], "weight": 1},
                {"key": "attractive", "intervention": interventions["digitale-korting"], "weight": 1},
            ],
            hypothesis="Benchmark",
            primary_metric=Metric.BOOKED,
            guardrail_metrics=[Metric.NO_SHOW],
            planned_sample_per_variant=100_000,
            touchpoint=Touchpoint.PRODUCT_CHOICE,
        )
        services.experiment_start(experiment=experiment)
        with connection.cursor() as cursor:
            params = {"experiment": experiment.pk, "product": products[0].pk, "n": EXPOSURES // 2, "days": DAYS}
            cursor.execute(SEED_EXPOSURES, {**params, "arms": 3})
            cursor.execute(SEED_OUTCOMES, {"experiment": experiment.pk})
        if status == ExperimentStatus.FINISHED:
            services.experiment_finish(experiment=experiment)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    timings["seed exposures and outcomes"] = time.monotonic() - started
    seed_bounds()
    counts = {
        "contacts": CONTACTS,
        "exposures": sum(e.exposures.count() for e in Experiment.objects.all()),
    }
    return {"timings": timings, "counts": counts}


def seed_bounds() -> None:
    """The demo's policy frame, plus a lead-time bound per product and location, so the daily
    check measures what a municipality would (one availability query per product and location)."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model

    from booking.models import Location, Product
    from nudges.cockpit.constants import BoundKind
    from nudges.cockpit.demo import BOUNDS
    from nudges.cockpit.services import bound_set

    manager = get_user_model().objects.get(username="manager")
    for kind, limit, scope, note in BOUNDS:
        bound_set(kind=kind, limit=Decimal(limit), user=manager, note=note, **scope)
    for location in Location.objects.all():
        for product in Product.objects.all():
            bound_set(
                kind=BoundKind.LEAD_TIME,
                limit=Decimal(10),
                user=manager,
                product_code=product.code,
                location_id=location.pk,
                note="Benchmark",
            )


def measure(requests: int) -> list[tuple[str, float, float, float]]:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from booking.staff.accounts import SESSION_VERIFIED_AT

    client = Client(HTTP_HOST="localhost")
    manager = get_user_model().objects.get(username="manager")
    client.force_login(manager)
    # Managers give a TOTP code after their password: this session has given one.
    device = TOTPDevice.objects.filter(user=manager, confirmed=True).first() or TOTPDevice.objects.create(
        user=manager, name="benchmark", confirmed=True
    )
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session[SESSION_VERIFIED_AT] = time.time()
    session.save()
    rows = []
    for name, path in PAGES:
        first = time.monotonic()
        response = client.get(path)
        first = time.monotonic() - first
        assert response.status_code == 200, (path, response.status_code)
        times = []
        for _ in range(requests):
            started = time.monotonic()
            client.get(path)
            times.append(time.monotonic() - started)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
        rows.append((name, first, statistics.median(times), p95))
    return rows


def _load(load: tuple[float, float, float]) -> str:
    return " / ".join(f"{x:.1f}" for x in load)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--skip-seed", action="store_true", help="reuse the seeded database")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if "bench" not in url:
        sys.exit("Set DATABASE_URL to a database whose name contains 'bench': it is dropped and recreated.")
    if not args.skip_seed:
        recreate_database(url)
    import django

    django.setup()
    from django.db import connection

    from nudges.cockpit.portfolio import experiment_snapshots_refresh, portfolio_cached
    from nudges.cockpit.rollups import rollups_refresh
    from nudges.cockpit.services import bounds_check
    from nudges.models import ExperimentCountsSnapshot

    seeded = seed_cockpit() if not args.skip_seed else {"timings": {}, "counts": {}}
    timings = dict(seeded["timings"])
    started = time.monotonic()
    from datetime import timedelta

    from django.utils import timezone

    rollups_refresh(date_from=timezone.localdate() - timedelta(days=DAYS + 7))
    timings["roll-up: full rebuild of 190 days"] = time.monotonic() - started
    print(timings, flush=True)
    started = time.monotonic()
    rollups_refresh()
    timings["roll-up: yesterday and today (the 15-minute job)"] = time.monotonic() - started
    # Counted from nothing (also with --skip-seed), then the next 15-minute run: the analysis
    # moments are stored by then and no rows up to them were added, so nothing is recounted.
    ExperimentCountsSnapshot.objects.all().delete()
    for step in ("first count", "next run"):
        started = time.monotonic()
        experiment_snapshots_refresh()
        portfolio_cached()
        portfolio_cached(metric_override="no_show")
        timings[f"experiment snapshots + warm portfolio (the 15-minute job): {step}"] = time.monotonic() - started
    started = time.monotonic()
    bounds_check()
    timings["daily bound check"] = time.monotonic() - started
    print(timings, flush=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM nudges_contact")
        contacts = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM nudges_exposure")
        exposures = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM booking_appointment")
        appointments = cursor.fetchone()[0]
    load_before = os.getloadavg()
    pages = measure(args.requests)
    load_after = os.getloadavg()
    lines = [
        "# Cockpit benchmark",
        "",
        f"{contacts:,} contacts, {exposures:,} exposures, {appointments:,} appointments; "
        f"{args.requests} requests per page after one first request (Django test client, in process).",
        f"Load average (1, 5, 15 min) before the requests {_load(load_before)}, after {_load(load_after)}.",
        "",
        "| page | first request (s) | p50 (s) | p95 (s) |",
        "|---|---|---|---|",
        *[f"| {name} | {first:.3f} | {p50:.3f} | {p95:.3f} |" for name, first, p50, p95 in pages],
        "",
        "| background step | seconds |",
        "|---|---|",
        *[f"| {name} | {seconds:.1f} |" for name, seconds in timings.items()],
    ]
    text = "\n".join(lines) + "\n"
    (ROOT / "benchmarks" / "results").mkdir(exist_ok=True)
    (ROOT / "benchmarks" / "results" / "cockpit.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
