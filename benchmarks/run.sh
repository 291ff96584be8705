#!/usr/bin/env bash
# Kanaalwijzer benchmark: one command, about four minutes. See benchmarks/README.md.
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust) and Redis on 127.0.0.1:6379.
# Installs wrk (Debian) if it is missing. Extra arguments go to benchmarks/run.py (--help).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
if ! command -v wrk >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq && apt-get install -y -qq wrk >/dev/null
    else
        echo "wrk is missing: install it (Debian: apt-get install wrk)" >&2
        exit 2
    fi
fi
# The benchmark needs nothing beyond the app's own requirements (gunicorn, psycopg, redis).
if ! "$PYTHON" -c "import django, gunicorn, psycopg, redis" 2>/dev/null; then
    "$PYTHON" -m pip install -q -r requirements.txt
fi
SCRIPT=benchmarks/run.py
if [ "${1:-}" = "--rush" ]; then  # benchmarks/rush.sh
    shift
    SCRIPT=benchmarks/rush.py
fi
exec "$PYTHON" "$SCRIPT" "$@"
