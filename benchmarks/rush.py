"""Kanaalwijzer rush benchmark: availability reads while bookings pour in at one location.

One run, everything it starts is stopped at the end (see benchmarks/README.md, "The rush"):

1. drops and recreates the database (default ``kanaalwijzer_rush``), flushes its Redis
   database, migrates and seeds the same year of data as ``run.py`` (200,000 appointments);
2. cache-off server (BOOKING_AVAILABILITY_CACHE_SECONDS=0): wrk measures health, then the
   availability miss path for six weeks and for one day at one location;
3. cached server: wrk health and the Python client's health at 32 threads; then **the rush**:
   for ``--rush-seconds`` 32 clients book distinct free desk-times at the Stadhuis as fast as
   they can, while wrk (8 connections) reads, one after the other, six-week and one-day
   availability for that location and for all locations, then health; a staleness reader
   watches times it knows have just been fully booked; then health again and the race of 100
   clients on one time;
4. counts double bookings over the whole table (must be 0);
5. prints the figures and writes ``results/rush-latest.md`` and ``.json``.

Usage: ``benchmarks/rush.sh`` (or ``.venv/bin/python benchmarks/rush.py --help``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

import client
import run
from run import HOST, PYTHON, REPO, RESULTS, TZ, log


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def wrk_for(args: argparse.Namespace, server: run.Server, path: str, label: str, seconds: int) -> dict:
    args.duration = seconds
    return run.wrk(args, server, path, label)


def free_units(args: argparse.Namespace, location: int) -> list[tuple[str, int]]:
    out = subprocess.run(
        [PYTHON, str(run.BENCH_DIR / "rush_units.py"), "--location", str(location)],
        cwd=REPO,
        env=run.app_env(args, LOG_LEVEL="WARNING"),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [tuple(u) for u in json.loads(out)["units"]]


class Rush:
    """The booking clients and the staleness reader of one rush."""

    def __init__(
        self,
        args: argparse.Namespace,
        port: int,
        location: int,
        units,
        six_weeks: tuple[date, date],
        token: str,
        read_port: int | None = None,
    ):
        self.args, self.port, self.location, self.token = args, port, location, token
        self.read_port = read_port or port  # the staleness reader's server
        self.remaining = dict(units)  # start -> desks still free
        queue = [start for start, n in units for _ in range(n)]
        random.Random(7).shuffle(queue)
        self.queue = deque(queue)
        self.lock = threading.Lock()
        self.booked: deque[tuple[str, float]] = deque()  # (start, time the last desk's 201 arrived)
        self.responses: list[tuple[int, float, str]] = []  # (status, seconds, start)
        self.staleness: list[dict] = []
        self.first, self.last = six_weeks
        self.run_id = secrets.token_hex(3)
        self.stop = threading.Event()

    def book(self, i: int, barrier: threading.Barrier) -> None:
        conn = client.Connection(HOST, self.port, token=self.token)
        conn.request("GET", "/api/v1/health/", retry=True)
        barrier.wait()
        n = 0
        while not self.stop.is_set():
            try:
                start = self.queue.popleft()
            except IndexError:
                break
            n += 1
            body = {
                "products": ["paspoort"],
                "persons": 1,
                "location": self.location,
                "start": start,
                "name": f"Rush {i}-{n}",
                "email": f"rush-{self.run_id}-{i}-{n}@example.test",
            }
            response = conn.request("POST", "/api/v1/appointments/", body)
            arrived = time.perf_counter()
            with self.lock:
                self.responses.append((response.status, response.seconds, start))
                if response.status == 201:
                    self.remaining[start] -= 1
                    if self.remaining[start] == 0:
                        self.booked.append((start, arrived))
        conn.close()

    def read_path(self, start: str) -> str:
        day = datetime.fromisoformat(start).date()
        if self.first <= day <= self.last:
            return run.availability_path(self.first, self.last, self.location)
        return run.availability_path(day, day, self.location)

    def watch(self) -> None:
        """Take the newest fully booked time, read until it is no longer offered, repeat."""
        conn = client.Connection(HOST, self.read_port)
        while not self.stop.is_set() or self.booked:
            try:
                start, committed = self.booked.pop()
            except IndexError:
                time.sleep(0.005)
                continue
            needle = f'"start":"{start}"'.encode()
            path = self.read_path(start)
            reads, stale, first_sent = 0, 0.0, None
            while True:
                sent = time.perf_counter()
                first_sent = first_sent or sent
                response = conn.request("GET", path, retry=True)
                reads += 1
                if response.status == 200 and needle not in response.body:
                    break
                stale = sent - committed  # sent after the commit, and it still offered the time
                if stale > 10:
                    break  # give up: counted as stale this long
            self.staleness.append(
                {
                    "start": start,
                    "seconds": stale,
                    "reads": reads,
                    "first_read_after": first_sent - committed,
                    "path": path,
                }
            )
            if self.stop.is_set():
                break
        conn.close()


def rush(
    args: argparse.Namespace, server: run.Server, seed: dict, first: date, last: date, reader: run.Server | None = None
) -> dict:
    """Bookings on ``server``; the reads (wrk, staleness) on ``reader`` when there is one."""
    reader = reader or server
    location = seed["locations"]["stadhuis"]
    units = free_units(args, location)
    log(f"free desk-times at location {location}: {sum(n for _s, n in units):,} ({len(units):,} start times)")
    in_window = sum(n for s, n in units if first <= datetime.fromisoformat(s).date() <= last)
    # The one-day reads ask for the day in the six weeks with the most free desk-times.
    per_day: dict[date, int] = {}
    for start, n in units:
        day = datetime.fromisoformat(start).date()
        if first <= day <= last:
            per_day[day] = per_day.get(day, 0) + n
    one_day = max(per_day, key=per_day.get)
    paths = [
        ("availability six weeks, location 1", run.availability_path(first, last, location)),
        ("availability six weeks, all locations", run.availability_path(first, last)),
        ("availability one day, location 1", run.availability_path(one_day, one_day, location)),
        ("availability one day, all locations", run.availability_path(one_day, one_day)),
    ]
    for _label, path in paths:
        run.warm(reader, path, n=2)
    state = Rush(args, server.port, location, units, (first, last), seed["integration_token"], reader.port)
    phase = max(1, args.rush_seconds // (len(paths) + 1))
    barrier = threading.Barrier(args.clients + 1)
    clients = [threading.Thread(target=state.book, args=(i, barrier), daemon=True) for i in range(args.clients)]
    watcher = threading.Thread(target=state.watch, daemon=True)
    for t in clients:
        t.start()
    load_before = load()
    barrier.wait()
    started = time.perf_counter()
    watcher.start()
    reads = {}
    for label, path in paths:
        reads[label] = wrk_for(args, reader, path, f"{label}, during the rush", phase)
    reads["health"] = wrk_for(args, reader, "/api/v1/health/", "health, during the rush", phase)
    load_during = load()
    state.stop.set()
    for t in clients:
        t.join()
    ended = time.perf_counter()
    watcher.join(timeout=30)
    statuses: dict[int, int] = {}
    for status, _seconds, _start in state.responses:
        statuses[status] = statuses.get(status, 0) + 1
    seconds = [s for _status, s, _start in state.responses]
    created = statuses.get(201, 0)
    stale = [s["seconds"] for s in state.staleness]
    result = {
        "location": location,
        "one_day": one_day.isoformat(),
        "units_total": sum(n for _s, n in units),
        "units_in_six_weeks": in_window,
        "seconds": round(ended - started, 2),
        "phase_seconds": phase,
        "reads": reads,
        "bookings": {
            "statuses": statuses,
            "rps": created / (ended - started),
            "p50_ms": client.percentile(seconds, 50) * 1000,
            "p95_ms": client.percentile(seconds, 95) * 1000,
            "p99_ms": client.percentile(seconds, 99) * 1000,
            "in_six_weeks": sum(
                1
                for status, _s, start in state.responses
                if status == 201 and first <= datetime.fromisoformat(start).date() <= last
            ),
            "email_prefix": f"rush-{state.run_id}-",
            "queue_left": len(state.queue),
        },
        "staleness": {
            "samples": len(stale),
            "p50_ms": client.percentile(stale, 50) * 1000,
            "p99_ms": client.percentile(stale, 99) * 1000,
            "max_ms": max(stale, default=float("nan")) * 1000,
            "zero": sum(1 for s in stale if s == 0),
            "examples": state.staleness[-5:],
        },
        "load_before": load_before,
        "load_during": load_during,
    }
    b = result["bookings"]
    log(
        f"rush: {created} bookings in {result['seconds']} s = {b['rps']:.1f}/s, p95 {b['p95_ms']:.0f} ms, "
        f"statuses {statuses}; staleness p99 {result['staleness']['p99_ms']:.0f} ms, "
        f"max {result['staleness']['max_ms']:.0f} ms over {len(stale)} samples; load {load_during}"
    )
    return result


def ratio(value: float, reference: float) -> float:
    return value / reference if reference else float("nan")


def report(args: argparse.Namespace, results: dict) -> str:
    miss, cached, r = results["miss"], results["cached"], results["rush"]
    health = (cached["health_before"]["rps"] + cached["health_after"]["rps"]) / 2
    health_rush = r["reads"]["health"]["rps"]
    health_client = cached["client_health"]["rps"]
    race, double = results["race"], results["double_bookings"]
    six = r["reads"]["availability six weeks, location 1"]
    b, s = r["bookings"], r["staleness"]

    def line(label: str, m: dict, reference: float | None, reference_rush: float | None = None) -> str:
        rel = f"{ratio(m['rps'], reference):.2f}" if reference else "—"
        rel_rush = f"{ratio(m['rps'], reference_rush):.2f}" if reference_rush else "—"
        return f"| {label} | {rel} | {rel_rush} | {m['rps']:.0f} | {m['p50_ms']:.1f} | {m['p95_ms']:.1f} | {m['p99_ms']:.1f} |"

    goals = [
        (
            "rush: six weeks, location 1: p95 < 100 ms and ≥ 0.3 × health",
            f"p95 {six['p95_ms']:.1f} ms, {ratio(six['rps'], health):.2f} × health",
            six["p95_ms"] < 100 and ratio(six["rps"], health) >= 0.3,
        ),
        (
            "miss, six weeks, location 1: ≥ 0.1 × health, p95 < 50 ms",
            f"{ratio(miss['six_weeks']['rps'], miss['health']['rps']):.2f} ×, p95 {miss['six_weeks']['p95_ms']:.1f} ms",
            ratio(miss["six_weeks"]["rps"], miss["health"]["rps"]) >= 0.1 and miss["six_weeks"]["p95_ms"] < 50,
        ),
        (
            "miss, one day, location 1: ≥ 0.3 × health, p95 < 20 ms",
            f"{ratio(miss['one_day']['rps'], miss['health']['rps']):.2f} ×, p95 {miss['one_day']['p95_ms']:.1f} ms",
            ratio(miss["one_day"]["rps"], miss["health"]["rps"]) >= 0.3 and miss["one_day"]["p95_ms"] < 20,
        ),
        (
            "bookings ≥ 150/s and ≥ 0.1 × client health, p95 < 300 ms",
            f"{b['rps']:.1f}/s, {ratio(b['rps'], health_client):.3f} ×, p95 {b['p95_ms']:.0f} ms",
            b["rps"] >= 150 and ratio(b["rps"], health_client) >= 0.1 and b["p95_ms"] < 300,
        ),
        (
            "staleness p99 < 1 s",
            f"p99 {s['p99_ms']:.0f} ms, max {s['max_ms']:.0f} ms ({s['samples']} samples)",
            s["p99_ms"] < 1000,
        ),
        (
            "double bookings 0; race of 100: exactly one 201",
            f"double bookings {double}; race {race['statuses']}",
            double == 0 and race["statuses"].get(201, 0) == 1,
        ),
    ]
    results["goals"] = [{"goal": g, "measured": m, "met": ok} for g, m, ok in goals]
    lines = [
        "# Kanaalwijzer rush benchmark — latest run",
        "",
        f"Run {results['started']}, {results['seconds']:.0f} s; commit {results['commit']}. "
        f"Load average (1/5/15 min): start {results['load_start']}, before the rush {r['load_before']}, "
        f"end of the rush {r['load_during']}. Server: gunicorn {results['server']}, production settings, Redis; "
        f"availability grace window: {results['grace']}.",
        "",
        "| goal | measured | met |",
        "|---|---|---|",
        *(f"| {g} | {m} | {'yes' if ok else '**no**'} |" for g, m, ok in goals),
        "",
        f"## The rush: {r['seconds']} s, {args.clients} booking clients at location {r['location']}; "
        f"wrk {args.connections} connections, {r['phase_seconds']} s per endpoint, one after the other",
        "",
        "| requests | ratio to health (before/after) | ratio to health during the rush | req/s | p50 ms | p95 ms | p99 ms |",
        "|---|---|---|---|---|---|---|",
        line("health, before the rush (wrk)", cached["health_before"], None),
        line("health, after the rush (wrk)", cached["health_after"], None),
        *(line(label, m, health, health_rush) for label, m in r["reads"].items() if label != "health"),
        line("health, during the rush (wrk)", r["reads"]["health"], None),
        line(f"health, Python client, {args.clients} threads (before)", cached["client_health"], None),
        line("POST /api/v1/appointments/, 201s per second", b, health_client),
        "",
        f"Bookings: statuses {b['statuses']}, {b['in_six_weeks']} of the 201s inside the six weeks read; "
        f"free desk-times at the start {r['units_total']:,} ({r['units_in_six_weeks']:,} in the six weeks); "
        f"one-day reads ask for {r['one_day']}.",
        "",
        f"Staleness (a reader takes the time whose last free desk was booked most recently and re-reads "
        f"until it is gone; per time: from the 201's arrival to the sending of the last read that still "
        f"offered it, 0 when the first read no longer did): {s['samples']} samples, "
        f"{s['zero']} fresh at the first read; p50 {s['p50_ms']:.0f} ms, p99 {s['p99_ms']:.0f} ms, max {s['max_ms']:.0f} ms.",
        "",
        "## Miss path (cache-off server)",
        "",
        "| requests | ratio to health | — | req/s | p50 ms | p95 ms | p99 ms |",
        "|---|---|---|---|---|---|---|",
        line("health (cache-off server)", miss["health"], None),
        line("availability six weeks, location 1, cache off", miss["six_weeks"], miss["health"]["rps"]),
        line("availability one day, location 1, cache off", miss["one_day"], miss["health"]["rps"]),
        "",
        f"Race: {race['statuses']}, p95 {race['p95_ms']:.0f} ms. **double bookings: {double}**. "
        f"Server errors in the logs: {results['server_errors'] or 'none'}.",
        "",
        "README row:",
        "",
        f"| {results['started'][:16]} | {results['commit']} | {results['load_start'][0]} / {r['load_during'][0]} | "
        f"{ratio(six['rps'], health):.2f} ({six['rps']:.0f}, p95 {six['p95_ms']:.0f}) | "
        f"{ratio(miss['six_weeks']['rps'], miss['health']['rps']):.2f} (p95 {miss['six_weeks']['p95_ms']:.0f}) | "
        f"{ratio(miss['one_day']['rps'], miss['health']['rps']):.2f} (p95 {miss['one_day']['p95_ms']:.0f}) | "
        f"{b['rps']:.0f}/s, {ratio(b['rps'], health_client):.3f} (p95 {b['p95_ms']:.0f}) | "
        f"{s['p99_ms']:.0f} / {s['max_ms']:.0f} | {double} |",
        "",
    ]
    return "\n".join(lines)


def prepare(args: argparse.Namespace) -> dict:
    """A fresh seeded database; with --reuse-seed a copy of the one seeded earlier today."""
    template, saved = f"{args.db}_seed", RESULTS / f"{args.db}-seed.json"
    today = datetime.now(TZ).date().isoformat()
    if args.reuse_seed and saved.exists() and json.loads(saved.read_text())["today"] == today:
        with psycopg.connect(f"{args.pg_url}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.db}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{args.db}" TEMPLATE "{template}"')
        run.redis.Redis.from_url(args.cache_url).flushdb()
        env = run.app_env(args, LOG_LEVEL="WARNING")
        subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True)
        log(f"copied the database seeded earlier today ({template})")
        return json.loads(saved.read_text())
    run.prepare_database(args)
    seed = run.migrate_and_seed(args)
    log(f"seeded {seed['appointments']:,} appointments in {seed['seconds']} s")
    with psycopg.connect(f"{args.pg_url}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{template}"')
        conn.execute(f'CREATE DATABASE "{template}" TEMPLATE "{args.db}"')
    saved.write_text(json.dumps(seed))
    return seed


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Kanaalwijzer rush benchmark (see benchmarks/README.md)")
    # Threads, not sync workers: during a rush most bookings wait for a desk lock, and a sync
    # worker that waits serves nobody (reads queued behind bookings: 0.01 x health, see README).
    run.add_server_arguments(p, db="kanaalwijzer_rush", worker_class="gthread", threads=8)
    p.add_argument("--health-seconds", type=int, default=10)
    p.add_argument("--miss-seconds", type=int, default=15)
    p.add_argument("--rush-seconds", type=int, default=60)
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--race-clients", type=int, default=100)
    p.add_argument("--skip-miss", action="store_true", help="skip the cache-off server")
    p.add_argument(
        "--grace-ms",
        type=int,
        default=None,
        help="BOOKING_AVAILABILITY_GRACE_MS of the cached server (default: the settings' own, 500); 0 = off",
    )
    p.add_argument(
        "--read-workers",
        type=int,
        default=0,
        help="serve the reads from a second gunicorn with this many workers (README, 'Deploying at scale': "
        "availability on its own processes); 0 = one server for everything",
    )
    p.add_argument(
        "--reuse-seed", action="store_true", help="copy the database seeded by an earlier run today (kept as DB_seed)"
    )
    args = p.parse_args()
    args.secret_key = secrets.token_urlsafe(40)
    args.duration = args.health_seconds
    return args


def main() -> int:
    args = parse_args()
    if not shutil.which(args.wrk):
        print("wrk is missing: apt-get install wrk (benchmarks/rush.sh does this)", file=sys.stderr)
        return 2
    RESULTS.mkdir(exist_ok=True)
    signal.signal(signal.SIGTERM, run._interrupt)
    started = time.perf_counter()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout
    results: dict = {
        "started": datetime.now(TZ).isoformat(timespec="seconds"),
        "commit": commit.strip()
        + (" (dirty)" if subprocess.run(["git", "diff", "--quiet"], cwd=REPO).returncode else ""),
        "load_start": load(),
    }
    log(f"preparing database {args.db} and Redis {args.cache_url}; load {results['load_start']}")
    seed = prepare(args)
    first = datetime.now(TZ).date() + timedelta(days=1)
    last = first + timedelta(days=41)
    location = seed["locations"]["stadhuis"]
    six_weeks = run.availability_path(first, last, location)
    one_day = run.availability_path(first + timedelta(days=7), first + timedelta(days=7), location)
    server_errors: list[str] = []
    results["miss"] = miss = {}
    if not args.skip_miss:
        with run.Server(args, "rush-cache-off", BOOKING_AVAILABILITY_CACHE_SECONDS="0") as server:
            for path in ("/api/v1/health/", six_weeks, one_day):
                run.warm(server, path)
            miss["health"] = wrk_for(args, server, "/api/v1/health/", "health (cache-off server)", args.miss_seconds)
            miss["six_weeks"] = wrk_for(args, server, six_weeks, "six weeks, location 1, cache off", args.miss_seconds)
            miss["one_day"] = wrk_for(args, server, one_day, "one day, location 1, cache off", args.miss_seconds)
            server_errors += server.errors_in_log()
    else:
        nan = {"rps": float("nan"), "p50_ms": float("nan"), "p95_ms": float("nan"), "p99_ms": float("nan")}
        miss.update(health=nan, six_weeks=nan, one_day=nan)
    grace = {} if args.grace_ms is None else {"BOOKING_AVAILABILITY_GRACE_MS": str(args.grace_ms)}
    results["grace"] = "the settings' default" if args.grace_ms is None else f"{args.grace_ms} ms"
    results["read_workers"] = args.read_workers
    with contextlib.ExitStack() as servers:
        server = servers.enter_context(run.Server(args, "rush", **grace))
        reader = server
        if args.read_workers:
            read_args = argparse.Namespace(**{**vars(args), "workers": args.read_workers, "port": 0})
            reader = servers.enter_context(run.Server(read_args, "rush-reads", **grace))
        results["server"] = server.describe() + (f"; reads: {reader.describe()}" if reader is not server else "")
        run.warm(reader, "/api/v1/health/")
        results["cached"] = cached = {}
        cached["health_before"] = wrk_for(args, reader, "/api/v1/health/", "health (before)", args.health_seconds)
        health = client.timed_get(
            HOST, server.port, "/api/v1/health/", clients=args.clients, seconds=args.health_seconds
        )
        cached["client_health"] = run.summarise_client(f"{args.clients} clients, GET /api/v1/health/", health, 200)
        results["rush"] = rush(args, server, seed, first, last, reader)
        cached["health_after"] = wrk_for(args, reader, "/api/v1/health/", "health (after)", args.health_seconds)
        results["race"] = run.race(args, server, seed)
        server_errors += server.errors_in_log()
        if reader is not server:
            server_errors += reader.errors_in_log()
    with psycopg.connect(f"{args.pg_url}/{args.db}") as conn:
        results["double_bookings"] = run.double_bookings(conn)
    log(f"double bookings: {results['double_bookings']}")
    results["server_errors"] = server_errors[:20]
    results["seconds"] = time.perf_counter() - started
    text = report(args, results)
    (RESULTS / "rush-latest.md").write_text(text)
    (RESULTS / "rush-latest.json").write_text(json.dumps(results, indent=2, default=str))
    print()
    print(text)
    ok = results["double_bookings"] == 0 and results["race"]["statuses"].get(201, 0) == 1
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted: the servers this run started have been stopped", file=sys.stderr)
        sys.exit(130)
