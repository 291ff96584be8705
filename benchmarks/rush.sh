#!/usr/bin/env bash
# Kanaalwijzer rush benchmark: one command, about six minutes. See benchmarks/README.md.
# The same checks as run.sh (wrk, the venv); extra arguments go to benchmarks/rush.py (--help).
exec "$(dirname "$0")/run.sh" --rush "$@"
