"""Redis, the Celery broker: checked before the topology starts, and rid of the
topology's own queue afterwards (the Redis may be shared)."""

from __future__ import annotations

import logging
import socket
from urllib.parse import urlsplit

from transforms.ops.distributed.errors import TopologyError

log = logging.getLogger(__name__)


def redis_ping(url: str, timeout: float = 3.0) -> None:
    """PING the Redis at ``url`` over a raw socket (AUTH first if it has a password)."""
    parts = urlsplit(url)
    with socket.create_connection(
        (parts.hostname or "127.0.0.1", parts.port or 6379), timeout
    ) as s:
        if parts.password:
            pw = parts.password.encode()
            s.sendall(b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n" % (len(pw), pw))
            if not s.recv(64).startswith(b"+OK"):
                raise TopologyError(f"Redis at {parts.hostname}:{parts.port} refused the password")
        s.sendall(b"*1\r\n$4\r\nPING\r\n")
        answer = s.recv(64)
    if not answer.startswith(b"+PONG"):
        raise TopologyError(f"Redis at {parts.hostname}:{parts.port} answered {answer!r}")


def remove_queue(redis_url: str, queue: str) -> None:
    """Drop ``queue`` and its kombu bindings from the (possibly shared) Redis."""
    try:
        import redis  # the Celery Redis transport's client, present wherever this runs
    except ImportError:
        return
    try:
        client = redis.Redis.from_url(redis_url, socket_timeout=5)
        keys = list(client.scan_iter(match=f"*{queue}*", count=500))
        if keys:
            client.delete(*keys)
        client.close()
    except Exception:
        log.warning("could not remove queue %s from Redis", queue, exc_info=True)
