"""Real races for PostgreSQL tests (``transaction=True``): threads released together."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


def race(n: int, action: Callable[[int], Any]) -> list[Any]:
    """Run ``action(i)`` in n threads released together; return each thread's outcome (its
    result, or the exception it raised: every outcome is for the caller to assert)."""
    barrier = threading.Barrier(n)
    outcomes: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[i] = action(i)
        except Exception as exc:
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    return outcomes
