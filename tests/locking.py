"""Lock-order checks for PostgreSQL tests: capture the SQL of a write and read off the locks it
takes, to compare with the order written in ``booking.locks``.

``locks_taken`` returns ``(kind, key)`` in the order first taken (a lock taken again in the same
transaction is already held and cannot wait): ``("contact", email)`` for the advisory lock,
``("desk", id)``, ``("appointment", id)``, and ``("other:<table>", ids)`` for a caller's own rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

RANK = {"contact": 0, "desk": 1, "appointment": 2}

_TABLE = re.compile(r'FROM "(\w+)"')
_CONTACT = re.compile(r"pg_advisory_xact_lock\(hashtextextended\('contact:([^']*)'")


def _ids(sql: str, table: str) -> list[int]:
    where = sql.split(" WHERE ", 1)[1] if " WHERE " in sql else ""
    one = re.findall(rf'"{table}"\."id" = (\d+)', where)
    many = re.findall(rf'"{table}"\."id" IN \(([\d, ]+)\)', where)
    return sorted({int(x) for x in one} | {int(x) for group in many for x in group.split(",")})


def locks_in(queries: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    taken: list[tuple[str, Any]] = []
    for query in queries:
        sql = query["sql"]
        if "pg_advisory_xact_lock" in sql:
            match = _CONTACT.search(sql)
            taken.append(("contact", match.group(1) if match else sql))
        elif "FOR UPDATE" in sql:
            table = _TABLE.search(sql).group(1)
            if table == "booking_desk":
                taken += [("desk", pk) for pk in _ids(sql, table)]
            elif table == "booking_appointment":
                taken += [("appointment", pk) for pk in _ids(sql, table)]
            else:
                taken.append((f"other:{table}", tuple(_ids(sql, table))))
    first: list[tuple[str, Any]] = []
    for lock in taken:
        if lock not in first:
            first.append(lock)
    return first


@contextmanager
def captured_locks() -> Iterator[list[tuple[str, Any]]]:
    """``with captured_locks() as locks: ...``; afterwards ``locks`` holds the locks taken."""
    locks: list[tuple[str, Any]] = []
    with CaptureQueriesContext(connection) as ctx:
        yield locks
    locks += locks_in(ctx.captured_queries)


def assert_lock_order(locks: list[tuple[str, Any]]) -> None:
    """The order of booking.locks: a caller's own rows, then the contact, desks ascending,
    appointment rows ascending; never back to an earlier step."""
    assert connection.vendor == "postgresql"
    rank_of: Callable[[str], int] = lambda kind: RANK.get(kind, -1)  # noqa: E731
    previous = (-2, None)
    for kind, key in locks:
        current = (rank_of(kind), key)
        assert current[0] >= previous[0], f"{kind} {key} locked after a later step: {locks}"
        if current[0] == previous[0] and kind in ("desk", "appointment"):
            assert key > previous[1], f"{kind} {key} locked after {previous[1]}: {locks}"
        previous = current
