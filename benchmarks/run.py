"""Kanaalwijzer benchmark: availability reads, booking writes and the one-time race.

One run does everything and stops everything it started:

1. drops and recreates the database ``kanaalwijzer_bench``, flushes Redis database 5,
   migrates (production settings) and seeds a year of data (``seed.py``);
2. serves the app with gunicorn with the availability cache switched off
   (BOOKING_AVAILABILITY_CACHE_SECONDS=0, every request recomputes) and measures the
   health endpoint and availability with wrk;
3. serves it again with the cache on (the default 30 s) and measures, with the same wrk
   settings: health, (a) availability with and without a location, health again;
   then (b) 32 clients booking distinct free times, with health measured by the same
   Python client at the same concurrency; and (c) 100 clients booking one time that
   exactly one desk can serve;
4. checks in PostgreSQL that no two active appointments overlap on any desk;
5. prints a summary and writes it to benchmarks/results/latest.md (and latest.json).

Usage: ``benchmarks/run.sh`` (or ``.venv/bin/python benchmarks/run.py --help``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import suppress
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import psycopg
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

import client

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
PYTHON = sys.executable
HOST = "127.0.0.1"
TZ = ZoneInfo("Europe/Amsterdam")
ACTIVE = ("held", "booked", "checked_in")


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", flush=True)


# --- environment ----------------------------------------------------------------------------


def app_env(args: argparse.Namespace, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("DJANGO_", "DATABASE_", "CACHE_", "API_THROTTLE_", "BOOKING_", "DB_POOL_", "KANAALWIJZER_")
        )
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": args.secret_key,
            "NUDGES_UNIT_HASH_KEY": args.secret_key[::-1],
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            # The clients connect directly (production refuses to start without it).
            "API_NUM_PROXIES": "none",
            "DATABASE_URL": f"{args.pg_url}/{args.db}",
            "CACHE_URL": args.cache_url,
            # Throttles must not refuse benchmark traffic (all of it comes from one address).
            "API_THROTTLE_ANON": args.throttle_rate,
            "API_THROTTLE_USER": args.throttle_rate,
            "API_THROTTLE_BOOKING": args.throttle_rate,
            "API_THROTTLE_INTEGRATION": args.throttle_rate,
            "PYTHONDONTWRITEBYTECODE": "1",
            # Files the app may write (the first-look Celery broker folder) stay in results/.
            "KANAALWIJZER_VAR_DIR": str(RESULTS / "var"),
        }
    )
    env.update(extra)
    return env


def prepare_database(args: argparse.Namespace) -> None:
    with psycopg.connect(f"{args.pg_url}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.db}"')
    redis.Redis.from_url(args.cache_url).flushdb()


def migrate_and_seed(args: argparse.Namespace) -> dict:
    env = app_env(args, LOG_LEVEL="WARNING")
    started = time.perf_counter()
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True)
    log(f"migrated in {time.perf_counter() - started:.1f} s; seeding {args.appointments:,} appointments")
    out = RESULTS / "seed.json"
    subprocess.run(
        [PYTHON, str(BENCH_DIR / "seed.py"), "--appointments", str(args.appointments), "--out", str(out)],
        cwd=REPO,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return json.loads(out.read_text())


# --- the server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Server:
    """gunicorn serving config.wsgi; stopped (master and workers) when the block ends."""

    def __init__(self, args: argparse.Namespace, name: str, **env: str) -> None:
        self.args, self.name = args, name
        self.env = app_env(args, **env)
        self.port = getattr(args, "port", 0) or free_port()
        self.proc: subprocess.Popen | None = None
        self.log_path = RESULTS / f"gunicorn-{name}.log"

    def command(self) -> list[str]:
        cmd = [
            str(Path(PYTHON).parent / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"{HOST}:{self.port}",
            "--workers",
            str(self.args.workers),
            "--worker-class",
            self.args.worker_class,
            "--timeout",
            "60",
            "--graceful-timeout",
            "5",
            "--backlog",
            "2048",
            # No access log (gunicorn's default); errors and app logs go to the log file.
        ]
        if self.args.worker_class == "gthread":
            cmd += ["--threads", str(self.args.threads)]
        return cmd

    def __enter__(self) -> Server:
        log(f"starting gunicorn ({self.name}) on {HOST}:{self.port}: {self.describe()}")
        self.log_file = self.log_path.open("w")
        self.proc = subprocess.Popen(
            self.command(),
            cwd=REPO,
            env=self.env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 120  # workers boot slowly on a busy machine
        conn = client.Connection(HOST, self.port, timeout=5)
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}; see {self.log_path}")
            if conn.request("GET", "/api/v1/health/").status == 200:
                conn.close()
                return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within 120 s; see {self.log_path}")

    def describe(self) -> str:
        text = f"{self.args.workers} {self.args.worker_class} workers"
        if self.args.worker_class == "gthread":
            text += f" x {self.args.threads} threads"
        return text

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is not None:
            self.log_file.close()
            return
        self.proc.send_signal(signal.SIGTERM)  # master stops its workers
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)  # the group this script created
            self.proc.wait(timeout=5)
        self.log_file.close()
        log(f"stopped gunicorn ({self.name})")

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def errors_in_log(self) -> list[str]:
        text = self.log_path.read_text(errors="replace")
        return [line for line in text.splitlines() if re.search(r"Internal Server Error|Traceback|\[CRITICAL\]", line)]


# --- measurements ---------------------------------------------------------------------------


def wrk(args: argparse.Namespace, server: Server, path: str, label: str) -> dict:
    cmd = [
        args.wrk,
        "-t",
        str(args.wrk_threads),
        "-c",
        str(args.connections),
        "-d",
        f"{args.duration}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(BENCH_DIR / "report.lua"),
        server.url(path),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=args.duration + 60).stdout
    match = re.search(r"^WRK_JSON (.*)$", out, re.MULTILINE)
    if not match:
        raise RuntimeError(f"no result from wrk:\n{out}")
    result = json.loads(match.group(1))
    result.update(
        label=label,
        tool=f"wrk -t{args.wrk_threads} -c{args.connections} -d{args.duration}s",
        path=path,
        load1=os.getloadavg()[0],
    )
    errors = sum(result["errors"].values())
    log(
        f"{label}: {result['rps']:.0f} req/s, p50 {result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms, "
        f"p99 {result['p99_ms']:.1f} ms, errors {errors}, load {result['load1']:.1f}"
    )
    return result


def warm(server: Server, path: str, n: int = 20) -> client.Response:
    conn = client.Connection(HOST, server.port)
    responses = [conn.request("GET", path, retry=True) for _ in range(n)]
    conn.close()
    bad = [r.status for r in responses if r.status != 200]
    if bad:
        raise RuntimeError(f"GET {path} answered {bad[:5]}: {responses[-1].body[:300]!r}")
    return responses[-1]


def availability_path(first: date, last: date, location: int | None = None) -> str:
    params = {"product": "paspoort", "persons": 1}
    if location is not None:
        params["location"] = location
    params.update(date_from=first.isoformat(), date_to=last.isoformat())
    return "/api/v1/availability/?" + urlencode(params)


def summarise_client(label: str, result: client.LoadResult, ok_status: int) -> dict:
    summary = {
        "label": label,
        "tool": f"python client, {label.split(',')[0]}",
        "requests": result.count,
        "seconds": round(result.elapsed, 3),
        "rps": result.rate(ok_status),
        "p50_ms": result.latency_ms(50),
        "p95_ms": result.latency_ms(95),
        "p99_ms": result.latency_ms(99),
        "max_ms": result.latency_ms(100),
        "statuses": result.statuses(),
        "load1": os.getloadavg()[0],
    }
    log(
        f"{label}: {summary['rps']:.1f}/s ({ok_status}), p50 {summary['p50_ms']:.1f} ms, "
        f"p95 {summary['p95_ms']:.1f} ms, statuses {summary['statuses']}"
    )
    return summary


def free_slots(server: Server, first: date, last: date, locations: list[int]) -> list[tuple[int, str]]:
    slots = []
    for location in locations:
        body = warm(server, availability_path(first, last, location), n=1).json()
        slots += [(s["location"], s["start"]) for s in body["slots"]]
    return slots


def bookings(args: argparse.Namespace, server: Server, seed: dict, first: date, last: date) -> dict:
    """(b) ``clients`` clients, each booking its own distinct free times back to back."""
    slots = free_slots(server, first, last, list(seed["locations"].values()))
    # Past the minimum notice with a margin, so no request is refused for being too close.
    soon = datetime.now(TZ) + timedelta(hours=2)
    slots = [s for s in slots if datetime.fromisoformat(s[1]) > soon]
    need = args.clients * args.bookings_per_client
    if len(slots) < need:
        raise RuntimeError(f"only {len(slots)} free slots for {need} bookings: seed more free time")
    random.Random(7).shuffle(slots)
    run_id = secrets.token_hex(3)
    bodies = [
        [
            {
                "products": ["paspoort"],
                "persons": 1,
                "location": location,
                "start": start,
                "name": f"Benchmark {c}-{n}",
                "email": f"bench-{run_id}-{c}-{n}@example.test",
            }
            for n, (location, start) in enumerate(
                slots[c * args.bookings_per_client : (c + 1) * args.bookings_per_client]
            )
        ]
        for c in range(args.clients)
    ]
    health = client.timed_get(HOST, server.port, "/api/v1/health/", clients=args.clients, seconds=args.client_seconds)
    health_summary = summarise_client(f"{args.clients} clients, GET /api/v1/health/", health, 200)
    result = client.posts(HOST, server.port, "/api/v1/appointments/", bodies, token=seed["integration_token"])
    booked = summarise_client(f"{args.clients} clients, POST /api/v1/appointments/", result, 201)
    booked["distinct_times"] = need
    booked["email_prefix"] = f"bench-{run_id}-"
    samples = [r.body[:300].decode(errors="replace") for r in result.responses if r.status not in (201, 409)][:3]
    booked["other_samples"] = samples
    return {"health": health_summary, "bookings": booked}


def race(args: argparse.Namespace, server: Server, seed: dict) -> dict:
    """(c) ``race_clients`` clients book the same time where one desk serves the product."""
    day = date.fromisoformat(seed["race"]["day"])
    location = seed["race"]["location"]
    body = warm(server, availability_path(day, day, location), n=1).json()
    if not body["slots"]:
        raise RuntimeError(f"no free paspoort time at location {location} on {day}")
    start = body["slots"][len(body["slots"]) // 2]["start"]
    run_id = secrets.token_hex(3)
    bodies = [
        [
            {
                "products": ["paspoort"],
                "persons": 1,
                "location": location,
                "start": start,
                "name": f"Race {i}",
                "email": f"race-{run_id}-{i}@example.test",
            }
        ]
        for i in range(args.race_clients)
    ]
    result = client.posts(HOST, server.port, "/api/v1/appointments/", bodies, token=seed["integration_token"])
    summary = summarise_client(f"{args.race_clients} clients, one time", result, 201)
    summary.update(start=start, location=location, email_prefix=f"race-{run_id}-")
    conflict = next((r for r in result.responses if r.status == 409), None)
    summary["conflict_example"] = conflict.json() if conflict else None
    return summary


def double_bookings(conn: psycopg.Connection) -> int:
    """Pairs of active appointments that overlap on one desk, over the whole table."""
    return conn.execute(
        """
        SELECT count(*) FROM booking_appointment a
        JOIN booking_appointment b
          ON a.desk_id = b.desk_id AND a.id < b.id
         AND tstzrange(a.start, a."end") && tstzrange(b.start, b."end")
        WHERE a.status = ANY(%(active)s) AND b.status = ANY(%(active)s)
        """,
        {"active": list(ACTIVE)},
    ).fetchone()[0]


def verify(args: argparse.Namespace, parts: dict) -> dict:
    active = list(ACTIVE)
    with psycopg.connect(f"{args.pg_url}/{args.db}") as conn:
        double = double_bookings(conn)
        booked_b = conn.execute(
            "SELECT count(*) FROM booking_appointment WHERE email LIKE %s AND status = ANY(%s)",
            [parts["b"]["bookings"]["email_prefix"] + "%", active],
        ).fetchone()[0]
        race = parts["c"]
        race_rows = conn.execute(
            "SELECT count(*) FROM booking_appointment WHERE email LIKE %s AND status = ANY(%s)",
            [race["email_prefix"] + "%", active],
        ).fetchone()
        at_time = conn.execute(
            """SELECT count(*) FROM booking_appointment a JOIN booking_desk d ON d.id = a.desk_id
               WHERE d.location_id = %s AND a.start = %s AND a.status = ANY(%s)""",
            [race["location"], datetime.fromisoformat(race["start"]), active],
        ).fetchone()[0]
        total = conn.execute("SELECT count(*) FROM booking_appointment").fetchone()[0]
    return {
        "double_bookings": double,
        "b_rows_in_db": booked_b,
        "race_rows_in_db": race_rows[0],
        "race_active_at_time_and_location": at_time,
        "appointments_after_run": total,
    }


# --- report ---------------------------------------------------------------------------------


def machine() -> dict:
    cpu = "unknown"
    with suppress(OSError):
        match = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
        cpu = match.group(1) if match else cpu
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_gib, 1),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
    }


def versions(args: argparse.Namespace) -> dict:
    out = {}
    with suppress(Exception), psycopg.connect(f"{args.pg_url}/postgres") as conn:
        out["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
    with suppress(Exception):
        out["redis"] = redis.Redis.from_url(args.cache_url).info()["redis_version"]
    with suppress(Exception):
        out["wrk"] = subprocess.run([args.wrk, "-v"], capture_output=True, text=True).stdout.split()[1]
    return out


def ratio(value: float, reference: float) -> str:
    return f"{value / reference:.2f}" if reference else "n/a"


def row(name: str, r: dict, reference: float | None, unit: str = "req/s") -> str:
    rel = ratio(r["rps"], reference) if reference else "—"
    return f"| {name} | {rel} | {r['rps']:.1f} {unit} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} |"


def report(args: argparse.Namespace, results: dict) -> str:
    a, b, c, v = results["a"], results["b"], results["c"], results["verify"]
    health_a = (a["health_before"]["rps"] + a["health_after"]["rps"]) / 2
    health_u = a["uncached_health"]["rps"]
    health_b = b["health"]["rps"]
    goals = results["goals"]
    lines = [
        "# Kanaalwijzer benchmark — latest run",
        "",
        f"Run {results['started']} — {results['seconds']:.0f} s in all. Machine: {results['machine']['cpus']} CPUs "
        f"({results['machine']['cpu']}), {results['machine']['memory_gib']} GiB; load average at start "
        f"{', '.join(f'{x:.2f}' for x in results['machine']['load_average_at_start'])}. Load generator, server, "
        "PostgreSQL and Redis share the machine.",
        "",
        f"Server: gunicorn {results['server']}, production settings, Redis cache; throttle rates "
        f"{args.throttle_rate}. Data: {results['seed']['appointments']:,} appointments "
        f"({', '.join(f'{k} {n:,}' for k, n in results['seed']['by_status'].items())}), seeded in "
        f"{results['seed']['seconds']} s.",
        "",
        "## Goals",
        "",
        "| goal | measured | met |",
        "|---|---|---|",
        *(f"| {g['goal']} | {g['measured']} | {'yes' if g['met'] else '**no**'} |" for g in goals),
        "",
        f"## (a) Availability, six weeks ({a['range']}), {a['tool']}",
        "",
        "| endpoint | ratio to health | throughput | p50 ms | p95 ms | p99 ms |",
        "|---|---|---|---|---|---|",
        row("health (before)", a["health_before"], None),
        row("health (after)", a["health_after"], None),
        row("availability, location 1, cached", a["cached_location"], health_a),
        row("availability, all locations, cached", a["cached_all"], health_a),
        row("health (cache-off server)", a["uncached_health"], None),
        row("availability, location 1, cache off", a["uncached_location"], health_u),
        row("availability, all locations, cache off", a["uncached_all"], health_u),
        "",
        f"Slots per response: location 1 {a['slots_location']}, all locations {a['slots_all']}. "
        "Ratios are to the mean of the health runs on the same server.",
        "",
        f"## (b) Bookings, {args.clients} concurrent clients, {b['bookings']['distinct_times']} distinct free times",
        "",
        "| requests | ratio to health | throughput | p50 ms | p95 ms | p99 ms |",
        "|---|---|---|---|---|---|",
        row(f"health, {args.clients} clients (Python client)", b["health"], None),
        row("POST /api/v1/appointments/ (201s per second)", b["bookings"], health_b, unit="bookings/s"),
        "",
        f"Statuses: {b['bookings']['statuses']} in {b['bookings']['seconds']} s; rows in the database: "
        f"{v['b_rows_in_db']}.",
        "",
        f"## (c) Race: {args.race_clients} clients, one time ({c['start']}, location {c['location']}, one desk)",
        "",
        f"Statuses: {c['statuses']}; p50 {c['p50_ms']:.0f} ms, p95 {c['p95_ms']:.0f} ms, "
        f"max {c['max_ms']:.0f} ms. Active appointments at that time and location: "
        f"{v['race_active_at_time_and_location']}.",
        "",
        f"**double bookings: {v['double_bookings']}** (self-join of active appointments on desk and "
        f"overlapping tstzrange over all {v['appointments_after_run']:,} rows).",
        "",
        f"Server errors in the gunicorn logs: {results['server_errors'] or 'none'}.",
        "",
    ]
    return "\n".join(lines)


def evaluate(results: dict) -> list[dict]:
    a, b, c, v = results["a"], results["b"], results["c"], results["verify"]
    health_a = (a["health_before"]["rps"] + a["health_after"]["rps"]) / 2
    cached = a["cached_location"]
    all_locations = a["cached_all"]
    created = c["statuses"].get(201, 0)
    return [
        {
            "goal": "availability p95 < 100 ms (cached, location 1 / all locations)",
            "measured": f"{cached['p95_ms']:.1f} ms / {all_locations['p95_ms']:.1f} ms",
            "met": cached["p95_ms"] < 100 and all_locations["p95_ms"] < 100,
        },
        {
            "goal": "availability ≥ 0.5 × health throughput (cached, location 1 / all locations)",
            "measured": f"{cached['rps'] / health_a:.2f} / {all_locations['rps'] / health_a:.2f}",
            "met": cached["rps"] / health_a >= 0.5 and all_locations["rps"] / health_a >= 0.5,
        },
        {
            "goal": "≥ 50 bookings/s with 32 clients on distinct times",
            "measured": f"{b['bookings']['rps']:.1f} bookings/s, statuses {b['bookings']['statuses']}",
            "met": b["bookings"]["rps"] >= 50,
        },
        {
            "goal": "race: exactly one 201, all others 409",
            "measured": str(c["statuses"]),
            "met": created == 1 and c["statuses"].get(409, 0) == sum(c["statuses"].values()) - 1,
        },
        {
            "goal": "zero double bookings",
            "measured": f"double bookings: {v['double_bookings']}",
            "met": v["double_bookings"] == 0 and v["race_active_at_time_and_location"] == 1,
        },
    ]


# --- main -----------------------------------------------------------------------------------


def add_server_arguments(p: argparse.ArgumentParser, *, db: str, worker_class: str, threads: int) -> None:
    """Database, cache, server and wrk options shared with rush.py."""
    p.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432"))
    p.add_argument("--db", default=os.environ.get("BENCH_DB", db), help="dropped and recreated")
    p.add_argument("--cache-url", default=os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/5"))
    p.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "0")), help="0: a free port")
    p.add_argument("--appointments", type=int, default=200_000)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--worker-class", default=worker_class, choices=["sync", "gthread"])
    p.add_argument("--threads", type=int, default=threads, help="per worker, gthread only")
    p.add_argument("--throttle-rate", default="1000000/second")
    p.add_argument("--wrk", default=shutil.which("wrk") or "wrk")
    p.add_argument("--wrk-threads", type=int, default=1)
    p.add_argument("--connections", type=int, default=8, help="wrk connections")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Kanaalwijzer benchmark (see benchmarks/README.md)")
    add_server_arguments(p, db="kanaalwijzer_bench", worker_class="sync", threads=4)
    p.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    p.add_argument("--clients", type=int, default=32, help="(b) concurrent booking clients")
    p.add_argument("--bookings-per-client", type=int, default=20)
    p.add_argument("--client-seconds", type=float, default=10, help="(b) health run with the Python client")
    p.add_argument("--race-clients", type=int, default=100)
    p.add_argument("--skip-uncached", action="store_true", help="skip the cache-off server")
    args = p.parse_args()
    args.secret_key = secrets.token_urlsafe(40)
    return args


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main() -> int:
    args = parse_args()
    if not shutil.which(args.wrk):
        print("wrk is missing: apt-get install wrk (benchmarks/run.sh does this)", file=sys.stderr)
        return 2
    RESULTS.mkdir(exist_ok=True)
    started = time.perf_counter()
    results: dict = {"started": datetime.now(TZ).isoformat(timespec="seconds"), "machine": machine()}
    results["versions"] = versions(args)

    # Stop cleanly on Ctrl-C or a TERM: the with-blocks then stop gunicorn.
    signal.signal(signal.SIGTERM, _interrupt)

    log(f"preparing database {args.db} and Redis {args.cache_url}")
    prepare_database(args)
    results["seed"] = seed = migrate_and_seed(args)
    log(f"seeded {seed['appointments']:,} appointments in {seed['seconds']} s: {seed['by_status']}")

    first = datetime.now(TZ).date() + timedelta(days=1)
    last = first + timedelta(days=41)
    loc = seed["locations"]["stadhuis"]
    path_location = availability_path(first, last, loc)
    path_all = availability_path(first, last)
    a: dict = {"range": f"{first} – {last}", "tool": f"wrk, {args.connections} connections, {args.duration} s each"}
    server_errors: list[str] = []

    if not args.skip_uncached:
        with Server(args, "cache-off", BOOKING_AVAILABILITY_CACHE_SECONDS="0") as server:
            for path in ("/api/v1/health/", path_location, path_all):
                warm(server, path)
            a["uncached_health"] = wrk(args, server, "/api/v1/health/", "health (cache-off server)")
            a["uncached_location"] = wrk(args, server, path_location, "availability location 1, cache off")
            a["uncached_all"] = wrk(args, server, path_all, "availability all locations, cache off")
            server_errors += server.errors_in_log()

    with Server(args, "cached") as server:
        results["server"] = server.describe()
        for path in ("/api/v1/health/", path_location, path_all):
            warm(server, path)
        a["slots_location"] = len(warm(server, path_location, n=1).json()["slots"])
        a["slots_all"] = len(warm(server, path_all, n=1).json()["slots"])
        a["health_before"] = wrk(args, server, "/api/v1/health/", "health (before)")
        a["cached_location"] = wrk(args, server, path_location, "availability location 1, cached")
        a["cached_all"] = wrk(args, server, path_all, "availability all locations, cached")
        a["health_after"] = wrk(args, server, "/api/v1/health/", "health (after)")
        results["a"] = a
        results["b"] = bookings(args, server, seed, first, last)
        results["c"] = race(args, server, seed)
        server_errors += server.errors_in_log()

    results["verify"] = verify(args, results)
    log(f"double bookings: {results['verify']['double_bookings']}")
    results["server_errors"] = server_errors[:20]
    results["seconds"] = time.perf_counter() - started
    if args.skip_uncached:
        for key in ("uncached_health", "uncached_location", "uncached_all"):
            a[key] = {"rps": 0.0, "p50_ms": float("nan"), "p95_ms": float("nan"), "p99_ms": float("nan")}
    results["goals"] = evaluate(results)
    text = report(args, results)
    (RESULTS / "latest.md").write_text(text)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2, default=str))
    print()
    print(text)
    print(f"double bookings: {results['verify']['double_bookings']}")
    print(f"written: {RESULTS / 'latest.md'}")
    return 0 if all(g["met"] for g in results["goals"] if "double" in g["goal"] or "race" in g["goal"]) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: the servers this run started have been stopped", file=sys.stderr)
        sys.exit(130)
