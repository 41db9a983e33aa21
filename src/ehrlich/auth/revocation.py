"""Telling every process that an API token was revoked, within a second.

Each process keeps tokens it verified for `api_token_cache_seconds`
(`ApiTokenCache`). A revocation is announced in the transaction that revokes
the token and heard by every process that serves the API, which drops the
token from its cache at once:

- with Redis configured: Redis pub/sub, published after the revocation commits;
- on PostgreSQL without Redis: `NOTIFY`, sent in the revoking transaction
  (PostgreSQL delivers it only once that commits);
- on the single-process SQLite default: nothing leaves the process; the
  revoking process drops the token from its own cache after the commit.

While a listener is not connected (start-up, a lost connection) its process
serves no token from the cache, so a missed announcement cannot keep a revoked
token alive; on reconnecting it forgets everything it cached.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from ehrlich.counters.stores import redis_client
from ehrlich.storage.libpq import libpq_uri

CHANNEL = "ehrlich_api_token_revoked"
POLL_SECONDS = 0.25
"""How often a listener looks up from waiting, to notice it was asked to stop."""
RECONNECT_SECONDS = 1.0

log = logging.getLogger(__name__)


class Hearing(Protocol):
    """What a listener tells the cache."""

    def forget(self, token_id: str) -> None: ...

    def forget_all(self) -> None: ...

    def set_listening(self, listening: bool) -> None: ...


class Revocations(Protocol):
    """How revocations travel between the processes of one instance."""

    shared: bool
    """True when other processes hear what this one announces."""

    def announce(self, session: Session, token_id: str) -> None:
        """Called in the revoking transaction."""

    def listen(self, hearing: Hearing) -> Callable[[], None]:
        """Start hearing other processes' announcements; returns what stops it."""


class LocalRevocations:
    """The single-process default: nothing to tell, nothing to hear."""

    shared = False

    def announce(self, session: Session, token_id: str) -> None:
        return None

    def listen(self, hearing: Hearing) -> Callable[[], None]:
        return lambda: None


class _Listener:
    """A daemon thread that hears announcements until stopped, reconnecting as needed."""

    def __init__(self, name: str, hearing: Hearing,
                 run: Callable[[threading.Event, Hearing], None]) -> None:
        self._stop = threading.Event()
        self._hearing, self._run = hearing, run
        hearing.set_listening(False)
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._run(self._stop, self._hearing)
            except Exception as exc:  # any failure: not listening, retry
                log.warning("API token revocation listener lost its connection (%s); "
                            "reconnecting", type(exc).__name__)
            self._hearing.set_listening(False)
            self._stop.wait(RECONNECT_SECONDS)

    def stop(self) -> None:
        """Ask the thread to end; it does within `POLL_SECONDS` (not waited for, so that
        a server's shutdown does not wait either)."""
        self._stop.set()


class RedisRevocations:
    """Redis pub/sub on `PREFIX` + `CHANNEL`."""

    shared = True

    def __init__(self, url: str, prefix: str) -> None:
        self._url, self.channel = url, prefix + CHANNEL
        self._client = redis_client(url)

    def announce(self, session: Session, token_id: str) -> None:
        import redis

        def publish(_session: Session) -> None:
            try:
                self._client.publish(self.channel, token_id)
            except redis.RedisError as exc:  # revoked all the same; caches expire
                log.warning("API token revocation could not be announced over Redis (%s); "
                            "other processes refuse the token once their cache entry "
                            "expires", type(exc).__name__)

        event.listen(session, "after_commit", publish, once=True)

    def listen(self, hearing: Hearing) -> Callable[[], None]:
        def run(stop: threading.Event, hearing: Hearing) -> None:
            client = redis_client(self._url)
            pubsub = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
            try:
                pubsub.subscribe(self.channel)
                pubsub.get_message(timeout=POLL_SECONDS)  # the subscription's confirmation
                hearing.forget_all()  # whatever was announced while not listening
                hearing.set_listening(True)
                while not stop.is_set():
                    message = pubsub.get_message(timeout=POLL_SECONDS)
                    if message and message.get("type") == "message":
                        hearing.forget(bytes(message["data"]).decode())
            finally:
                pubsub.close()
                client.close()

        return _Listener("api-token-revocations", hearing, run).stop


class PostgresRevocations:
    """PostgreSQL `LISTEN`/`NOTIFY` on `CHANNEL`, on one connection per process."""

    shared = True

    def __init__(self, url: str) -> None:
        self._conninfo = libpq_uri(url, with_password=True)

    def announce(self, session: Session, token_id: str) -> None:
        session.execute(select(func.pg_notify(CHANNEL, token_id)))

    def listen(self, hearing: Hearing) -> Callable[[], None]:
        import psycopg

        def run(stop: threading.Event, hearing: Hearing) -> None:
            with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f"LISTEN {CHANNEL}")
                hearing.forget_all()
                hearing.set_listening(True)
                while not stop.is_set():
                    for note in conn.notifies(timeout=POLL_SECONDS):
                        hearing.forget(note.payload)

        return _Listener("api-token-revocations", hearing, run).stop


def revocations_for(database_url: str, redis_url: str | None, redis_prefix: str
                    ) -> Revocations:
    """Redis when configured, else PostgreSQL's own notifications, else this process only."""
    if redis_url:
        return RedisRevocations(redis_url, redis_prefix)
    if not database_url.startswith("sqlite"):
        return PostgresRevocations(database_url)
    return LocalRevocations()
