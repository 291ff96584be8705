"""Benchmark: posting 10,000 contacts through the integration API in batches, then the same
batches again (which must change nothing).

1. drops and recreates the database ``kw_bench_contacts`` and migrates it (production
   settings), creates the product ``uittreksel-brp`` and an integration client with the
   ``contacts`` scope;
2. starts gunicorn (2 sync workers) on a free port: the real HTTP path, authentication, DRF
   parsing and validation, the import service and PostgreSQL;
3. posts ``--contacts`` contacts (default 10,000) in batches of ``--batch`` (default 1,000) to
   ``POST /api/v1/contacts/batch/`` one after another and times it;
4. posts the same batches again and checks every answer says "unchanged" and the table did
   not change (rows, and the newest created_at);
5. prints a summary and writes benchmarks/results/contacts-latest.json.

Exit code 0 when the first pass stored every contact under the time limit (``--limit``, 20 s)
and the second pass changed nothing.

Usage: ``.venv/bin/python benchmarks/contacts.py [--contacts 10000] [--batch 1000]``. Needs
PostgreSQL on 127.0.0.1:5432 (user postgres); it touches no other database.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import requests

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
DB_NAME = "kw_bench_contacts"
SERVER_URL = "postgres://postgres@127.0.0.1:5432"
CHANNELS = ("telefoon", "e-mail", "whatsapp", "social-media", "balie")
OUTCOMES = ("answered", "referred_online", "back_office", "answered", "answered")


def recreate_database() -> None:
    with psycopg.connect(f"{SERVER_URL}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def batches(total: int, size: int) -> list[dict]:
    start = datetime.now(UTC) - timedelta(hours=8)
    rows = [
        {
            "external_id": f"tel-{i:07d}",
            "channel": CHANNELS[i % len(CHANNELS)],
            "products": ["uittreksel-brp"] if i % 3 else [],
            "moment": (start + timedelta(seconds=2 * i)).isoformat(),
            "outcome": OUTCOMES[i % len(OUTCOMES)],
            "handling_seconds": 60 + i % 400,
        }
        for i in range(total)
    ]
    return [{"contacts": rows[i : i + size]} for i in range(0, total, size)]


def post_all(url: str, token: str, payloads: list[dict]) -> tuple[float, int, int]:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    created = unchanged = 0
    started = time.perf_counter()
    for payload in payloads:
        response = session.post(url, json=payload, timeout=120)
        if response.status_code not in (200, 201):
            raise SystemExit(f"HTTP {response.status_code}: {response.text[:500]}")
        body = response.json()
        created += body["created"]
        unchanged += body["unchanged"]
    return time.perf_counter() - started, created, unchanged


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--limit", type=float, default=20.0)
    args = parser.parse_args()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        NUDGES_UNIT_HASH_KEY=secrets.token_urlsafe(50),
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=f"{SERVER_URL}/{DB_NAME}",
        KANAALWIJZER_VAR_DIR=str(RESULTS / "var"),
        API_THROTTLE_INTEGRATION="100000/minute",
        API_NUM_PROXIES="none",
        CACHE_URL=os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/6"),
        LOG_LEVEL="WARNING",
    )
    RESULTS.mkdir(exist_ok=True)
    print(f"database {DB_NAME}: recreate, migrate", flush=True)
    recreate_database()
    subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=REPO, check=True)
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from booking.integrations import integration_client_create
    from booking.models import Product
    from nudges.models import Contact

    Product.objects.create(
        code="uittreksel-brp", name_nl="Uittreksel BRP", name_en="BRP extract", minutes_per_person=10
    )
    _client, token = integration_client_create(name="Telefonieplatform (benchmark)", scopes=["contacts"])

    port = free_port()
    gunicorn = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "config.wsgi",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if requests.get(f"{base}/api/v1/health/", timeout=5).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        payloads = batches(args.contacts, args.batch)
        url = f"{base}/api/v1/contacts/batch/"
        first_s, created, _ = post_all(url, token, payloads)
        rows_after_first = Contact.objects.count()
        newest = Contact.objects.order_by("-created_at").values_list("created_at", flat=True).first()
        second_s, created_again, unchanged = post_all(url, token, payloads)
        rows_after_second = Contact.objects.count()
        newest_again = Contact.objects.order_by("-created_at").values_list("created_at", flat=True).first()
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)

    ok = (
        created == args.contacts == rows_after_first == rows_after_second
        and created_again == 0
        and unchanged == args.contacts
        and newest == newest_again
        and first_s < args.limit
    )
    summary = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "contacts": args.contacts,
        "batch": args.batch,
        "first_pass_seconds": round(first_s, 2),
        "contacts_per_second": round(args.contacts / first_s),
        "second_pass_seconds": round(second_s, 2),
        "created": created,
        "created_again": created_again,
        "unchanged_again": unchanged,
        "rows": rows_after_second,
        "limit_seconds": args.limit,
        "ok": ok,
        "load": os.getloadavg(),
    }
    (RESULTS / "contacts-latest.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
