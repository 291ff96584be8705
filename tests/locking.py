"""Lock-order checks for PostgreSQL tests: capture the SQL of a write and read off the locks it
takes, to compare with the order written in ``booking.locks``.

``locks_taken`` returns ``(kind, key)`` in the order first taken (a lock taken again in the same
transaction is already held and cannot wait): ``("contact", email)`` for the advisory lock,
``("desk", id)`` for a desk row locked exclusively, ``("desk shared", id)`` for one shared,
``("desk time", (id, first cell, last cell))`` for a desk's time cells (``desk_time``),
``("appointment", id)``, and ``("other:<table>", ids)`` for a caller's own rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from booking.locks import desk_time_cells

RANK = {"contact": 0, "desk": 1, "desk shared": 1, "desk time": 1, "appointment": 2}

_TABLE = re.compile(r'FROM "(\w+)"')
_CONTACT = re.compile(r"pg_advisory_xact_lock\(hashtextextended\('contact:([^']*)'")
_DESK_TIME = re.compile(
    r"pg_advisory_xact_lock\((\d+), cell\) FROM generate_series\((\d+), (\d+)\).*"
    r'"booking_desk"\."id" = (\d+) FOR SHARE'
)


def desk_time(desk_id: int, start: datetime, end: datetime) -> tuple[str, tuple[int, int, int]]:
    """The lock a write takes on a desk's cells of [start, end), as ``locks_in`` reports it."""
    cells = desk_time_cells(start, end)
    return ("desk time", (desk_id, cells.start, cells.stop - 1))


def _ids(sql: str, table: str) -> list[int]:
    where = sql.split(" WHERE ", 1)[1] if " WHERE " in sql else ""
    one = re.findall(rf'"{table}"\."id" = (\d+)', where)
    many = re.findall(rf'"{table}"\."id" IN \(([\d, ]+)\)', where)
    return sorted({int(x) for x in one} | {int(x) for group in many for x in group.split(",")})


def locks_in(queries: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    taken: list[tuple[str, Any]] = []
    for query in queries:
        sql = query["sql"]
        if desk_time_match := _DESK_TIME.search(sql):
            desk_id, first, last, shared = (int(x) for x in desk_time_match.groups())
            assert desk_id == shared, sql
            taken += [("desk shared", desk_id), ("desk time", (desk_id, first, last))]
        elif "pg_advisory_xact_lock" in sql:
            match = _CONTACT.search(sql)
            taken.append(("contact", match.group(1) if match else sql))
        elif "FOR UPDATE" in sql or "FOR SHARE" in sql:
            table = _TABLE.search(sql).group(1)
            if table == "booking_desk":
                kind = "desk" if "FOR UPDATE" in sql else "desk shared"
                taken += [(kind, pk) for pk in _ids(sql, table)]
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


def _position(kind: str, key: Any) -> tuple[int, Any]:
    """Where a lock stands in booking.locks' order: its step, then its place in the step (desks
    ascending, each desk's row before its cells; appointment rows ascending)."""
    rank = RANK.get(kind, -1)
    if kind in ("desk", "desk shared"):
        return rank, (key, -1)
    if kind == "desk time":
        return rank, (key[0], key[1])
    if kind == "appointment":
        return rank, key
    return rank, None


def assert_lock_order(locks: list[tuple[str, Any]]) -> None:
    """The order of booking.locks: a caller's own rows, then the contact, desks ascending (each
    desk's row, then its cells), appointment rows ascending; never back to an earlier step."""
    assert connection.vendor == "postgresql"
    previous = (-2, None)
    for kind, key in locks:
        current = _position(kind, key)
        assert current[0] >= previous[0], f"{kind} {key} locked after a later step: {locks}"
        if current[0] == previous[0] and current[1] is not None:
            assert current[1] > previous[1], f"{kind} {key} locked after {previous[1]}: {locks}"
        previous = current
