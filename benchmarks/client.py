"""A small threaded HTTP/1.1 load client on the standard library (http.client).

Used for the parts wrk cannot do well: POSTs with a distinct body per request (bookings),
the 100-client race, and the trivial endpoint measured with the same code for the ratio.
Each client thread keeps one connection (reopened when the server closes it) and all
threads start together behind a barrier.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass
class Response:
    status: int  # 0: no HTTP response (connection error, timeout)
    seconds: float
    body: bytes = b""

    def json(self):
        return json.loads(self.body) if self.body else None


@dataclass
class LoadResult:
    responses: list[Response] = field(default_factory=list)
    elapsed: float = 0.0  # from the barrier to the last response

    @property
    def count(self) -> int:
        return len(self.responses)

    def statuses(self) -> dict[int, int]:
        return dict(sorted(Counter(r.status for r in self.responses).items()))

    def rate(self, status: int | None = None) -> float:
        n = self.count if status is None else sum(1 for r in self.responses if r.status == status)
        return n / self.elapsed if self.elapsed else 0.0

    def latency_ms(self, q: float) -> float:
        return percentile([r.seconds for r in self.responses], q) * 1000


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100), as load tools report it."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


class Connection:
    """One client's connection; reconnects when the server has closed it."""

    def __init__(self, host: str, port: int, timeout: float = 60.0, *, token: str = "") -> None:
        self.host, self.port, self.timeout, self.token = host, port, timeout, token
        self.conn = http.client.HTTPConnection(host, port, timeout=timeout)

    def request(self, method: str, path: str, body: dict | None = None, *, retry: bool = False) -> Response:
        headers = {"Accept": "application/json", "Accept-Language": "nl"}
        if self.token:  # an integration client's (taking a time through the API needs one)
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                payload = resp.read()
                if resp.will_close:
                    self.conn.close()
                return Response(resp.status, time.perf_counter() - started, payload)
            except (OSError, http.client.HTTPException):
                self.conn.close()
                # Only an idempotent request is sent twice (a kept-alive connection the server
                # had just closed); a POST that failed counts as "no response".
                if not (retry and attempt == 1):
                    return Response(0, time.perf_counter() - started)
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()


def _run_threads(n: int, target: Callable[[int, threading.Barrier], list[Response]]) -> LoadResult:
    barrier = threading.Barrier(n + 1)
    per_thread: list[list[Response]] = [[] for _ in range(n)]
    finished: list[float] = [0.0] * n

    def worker(i: int) -> None:
        per_thread[i] = target(i, barrier)
        finished[i] = time.perf_counter()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    barrier.wait()  # every client is connected and waiting: go
    started = time.perf_counter()
    for t in threads:
        t.join()
    result = LoadResult()
    for responses in per_thread:
        result.responses.extend(responses)
    result.elapsed = max(finished) - started if finished else 0.0
    return result


def timed_get(host: str, port: int, path: str, *, clients: int, seconds: float) -> LoadResult:
    """``clients`` threads GET ``path`` back to back for ``seconds``."""

    def target(i: int, barrier: threading.Barrier) -> list[Response]:
        conn = Connection(host, port)
        conn.request("GET", path, retry=True)  # connect and warm up before the start
        barrier.wait()
        deadline = time.perf_counter() + seconds
        out = []
        while time.perf_counter() < deadline:
            out.append(conn.request("GET", path, retry=True))
        conn.close()
        return out

    return _run_threads(clients, target)


def posts(host: str, port: int, path: str, bodies: Sequence[Sequence[dict]], *, token: str = "") -> LoadResult:
    """One thread per list in ``bodies``; each POSTs its bodies one after the other.

    All threads first open their connection (a GET of the health endpoint), then wait at a
    barrier, so the first POSTs of all clients leave together.
    """

    def target(i: int, barrier: threading.Barrier) -> list[Response]:
        conn = Connection(host, port, token=token)
        conn.request("GET", "/api/v1/health/", retry=True)
        barrier.wait()
        out = [conn.request("POST", path, body) for body in bodies[i]]
        conn.close()
        return out

    return _run_threads(len(bodies), target)
