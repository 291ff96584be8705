"""The project's Redis cache backend (``config.cache``): Django's, with one Redis client per
connection pool instead of one per operation (issue 14). Against a real redis-server of the
test's own, as production runs it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time

import pytest
import redis
from django.core.cache.backends.redis import RedisCacheClient as DjangoClient

from config.cache import RedisCache

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs the redis-server binary")


@pytest.fixture
def redis_url(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(  # noqa: S603 - a fixed command line, no user input
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],  # noqa: S607
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
    )
    probe = redis.Redis(port=port, socket_timeout=1)
    deadline = time.monotonic() + 10
    while True:
        try:
            probe.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/3"
    server.terminate()
    server.wait(10)


def test_the_backend_does_what_djangos_does_with_one_client(redis_url, monkeypatch):
    cache = RedisCache(redis_url, {})
    built = []
    original = DjangoClient.get_client
    monkeypatch.setattr(DjangoClient, "get_client", lambda self, *a, **kw: built.append(1) or original(self, *a, **kw))

    cache.set("a", {"slots": [1, 2]}, timeout=30)
    cache.set_many({"b": b"\x00bytes", "c": 3}, timeout=30)
    assert cache.get("a") == {"slots": [1, 2]}
    assert cache.get_many(["a", "b", "c", "missing"]) == {"a": {"slots": [1, 2]}, "b": b"\x00bytes", "c": 3}
    assert cache.add("a", "other") is False
    assert cache.incr("c") == 4
    cache.delete("a")
    assert cache.get("a") is None
    assert cache.touch("b", 1) is True

    assert len(built) == 1  # Django's own client builds a Redis object for every call above
    assert redis.Redis.from_url(redis_url).ttl(cache.make_key("b")) == 1


def test_a_key_that_expired_is_gone(redis_url):
    cache = RedisCache(redis_url, {})
    cache.set("short", "value", timeout=1)
    time.sleep(1.2)
    assert cache.get("short", "default") == "default"
