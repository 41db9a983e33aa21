"""The two `CounterStore` backends: Redis (namespaced by a key prefix) and the database."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, delete, select

from ehrlich.counters.interfaces import CounterStore, bucket_of, sliding
from ehrlich.counters.models import AuthCounter
from ehrlich.storage.database import Database
from ehrlich.storage.upsert import insert_of

if TYPE_CHECKING:
    import redis

_COUNTERS = cast(Table, AuthCounter.__table__)

CLAIM_BUCKET = -1


class RedisCounterStore:
    """Counters in Redis; every key starts with `prefix` so instances (and tests) can share
    a server. Bucket keys expire two windows after their last write."""

    def __init__(self, client: Any, *, prefix: str) -> None:
        self._redis = client
        self._prefix = prefix

    def _key(self, key: str, bucket: int) -> str:
        return f"{self._prefix}{key}:{bucket}"

    def add(self, key: str, amount: float, *, window: int, now: datetime) -> float:
        bucket, fraction = bucket_of(now, window)
        pipe = self._redis.pipeline()
        pipe.incrbyfloat(self._key(key, bucket), amount)
        pipe.expire(self._key(key, bucket), 2 * window + 1)
        pipe.get(self._key(key, bucket - 1))
        current, _, previous = pipe.execute()
        return sliding(float(current), float(previous or 0), fraction)

    def estimate(self, key: str, *, window: int, now: datetime) -> float:
        bucket, fraction = bucket_of(now, window)
        current, previous = self._redis.mget(self._key(key, bucket), self._key(key, bucket - 1))
        return sliding(float(current or 0), float(previous or 0), fraction)

    def claim(self, key: str, *, until: datetime, now: datetime) -> bool:
        ttl_ms = max(1, math.ceil((until - now).total_seconds() * 1000))
        return bool(self._redis.set(self._key(key, CLAIM_BUCKET), b"1", nx=True, px=ttl_ms))

    def forget(self, key: str, *, window: int, now: datetime) -> None:
        bucket, _ = bucket_of(now, window)
        self._redis.delete(self._key(key, bucket), self._key(key, bucket - 1))


class DatabaseCounterStore:
    """Counters in the `auth_counters` table: one upsert per hit, atomic on SQLite
    (write lock) and PostgreSQL (row lock of the conflicting row)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._insert = insert_of(db.engine.dialect.name)

    def add(self, key: str, amount: float, *, window: int, now: datetime) -> float:
        bucket, fraction = bucket_of(now, window)
        insert = self._insert(_COUNTERS).values(
            key=key, bucket=bucket, value=amount,
            expires_at=now + timedelta(seconds=2 * window + 1))
        upsert = insert.on_conflict_do_update(
            index_elements=["key", "bucket"],
            set_={"value": AuthCounter.value + insert.excluded.value,
                  "expires_at": insert.excluded.expires_at},
        ).returning(AuthCounter.value)
        with self._db.write() as session:
            current = float(session.execute(upsert).scalar_one())
            previous = session.execute(select(AuthCounter.value).where(
                AuthCounter.key == key, AuthCounter.bucket == bucket - 1)).scalar()
        return sliding(current, float(previous or 0), fraction)

    def estimate(self, key: str, *, window: int, now: datetime) -> float:
        bucket, fraction = bucket_of(now, window)
        with self._db.read() as session:
            rows = dict(session.execute(select(AuthCounter.bucket, AuthCounter.value).where(
                AuthCounter.key == key, AuthCounter.bucket.in_([bucket, bucket - 1]))).all())
        return sliding(float(rows.get(bucket, 0)), float(rows.get(bucket - 1, 0)), fraction)

    def claim(self, key: str, *, until: datetime, now: datetime) -> bool:
        insert = self._insert(_COUNTERS).values(key=key, bucket=CLAIM_BUCKET, value=1.0,
                                                  expires_at=until)
        upsert = insert.on_conflict_do_update(
            index_elements=["key", "bucket"], set_={"expires_at": insert.excluded.expires_at},
            where=AuthCounter.expires_at <= now,
        ).returning(AuthCounter.key)
        with self._db.write() as session:
            session.execute(delete(AuthCounter).where(AuthCounter.expires_at < now))
            return session.execute(upsert).first() is not None

    def forget(self, key: str, *, window: int, now: datetime) -> None:
        with self._db.write() as session:
            session.execute(delete(AuthCounter).where(AuthCounter.key == key,
                                                      AuthCounter.bucket != CLAIM_BUCKET))


REDIS_TIMEOUT_SECONDS = 2.0


def redis_client(url: str) -> redis.Redis:
    """A Redis client that gives up quickly, for the counters and the revocation channel:
    connecting and each reply time out after `REDIS_TIMEOUT_SECONDS`, and a failed
    command is tried once more at once (a pooled connection the server has closed).
    With redis-py's defaults a refused connection was retried ten times with growing
    pauses, which held every sign-in and signup for about four seconds while Redis was
    down; now the request ends at once as a 503 the person can retry."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                                socket_timeout=REDIS_TIMEOUT_SECONDS,
                                retry=Retry(NoBackoff(), 1))


def open_store(db: Database, *, redis_url: str | None, prefix: str) -> CounterStore:
    """Redis when configured (shared by every process), else the database."""
    if redis_url:
        return RedisCounterStore(redis_client(redis_url), prefix=prefix)
    return DatabaseCounterStore(db)
