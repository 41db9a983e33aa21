"""A revoked API token is refused by every `serve` process within a second.

Two real server processes cache the token (for a minute: longer than any wait here),
then it is revoked from a third process; both must refuse it within a second, over
PostgreSQL LISTEN/NOTIFY (no Redis) or over Redis pub/sub. On the single-process SQLite
default nothing tells other processes: there the cache's lifetime still bounds it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from ehrlich.auth.api_tokens import create_api_token, withdraw_api_token
from ehrlich.domains import open_instance
from ehrlich.instance.service import Instance
from ehrlich.settings import Settings, load_settings
from tests.conftest import NOW
from tests.e2e.servers import running_servers
from tests.instances import InstanceTemplates
from tests.postgres import PostgresServer

CHECK = "/api/v1/consent/check?email=a@example.org&purpose=newsletter"
WITHIN = 1.0


@pytest.fixture
def postgres_config(tmp_path: Path, postgres_server: PostgresServer,
                    instance_templates: InstanceTemplates) -> Iterator[Path]:
    name = postgres_server.new_name()
    config = instance_templates.install(Settings(
        data_dir=tmp_path / "data", key_file=tmp_path / "keys" / "ehrlich.key",
        database_url=postgres_server.url(name)))
    config.write_text(config.read_text() + "api_token_cache_seconds = 60\n"
                      "inprocess_worker = false\n")
    yield config
    postgres_server.discard(name)


def _tokens(instance: Instance) -> tuple[tuple[str, str], str]:
    with instance.db.write() as session:
        token, record = create_api_token(session, name="revoked", scopes=["consent:read"],
                                         now=NOW)
        kept, _ = create_api_token(session, name="kept", scopes=["consent:read"], now=NOW)
    return (token, record.id), kept


def _status(url: str, token: str) -> int:
    return httpx.get(url + CHECK, headers={"Authorization": f"Bearer {token}"},
                     timeout=5).status_code


def _revoke(instance: Instance, token_id: str) -> float:
    """Revoke as `ehrlich token revoke` does; returns when the revocation committed."""
    with instance.db.write() as session:
        withdraw_api_token(session, instance.audit, token_id, actor="cli", now=NOW)
        instance.api_tokens.revoke_in(session, token_id)
    return time.monotonic()


def _refused_within(urls: list[str], token: str, since: float) -> dict[str, float]:
    """How long after `since` each server first refused the token (polling, no sleeps
    beyond the deadline); fails if one still accepts it after `WITHIN` seconds."""
    refused: dict[str, float] = {}
    while len(refused) < len(urls):
        for url in urls:
            if url not in refused and _status(url, token) == 401:
                refused[url] = time.monotonic() - since
        elapsed = time.monotonic() - since
        assert elapsed <= WITHIN or len(refused) == len(urls), \
            f"still accepted after {elapsed:.2f} s by {set(urls) - set(refused)}"
        time.sleep(0.01)
    return refused


@pytest.mark.parametrize("transport", ["postgresql-notify", "redis-pubsub"])
def test_revocation_reaches_every_server_within_a_second(
        postgres_config: Path, transport: str, request: pytest.FixtureRequest) -> None:
    env = {}
    if transport == "redis-pubsub":
        env = {"EHRLICH_REDIS_URL": request.getfixturevalue("redis_url"),
               "EHRLICH_REDIS_PREFIX": f"ehrlich-test-{uuid.uuid4().hex[:8]}:"}
    with running_servers(postgres_config, 2, env=env) as urls:
        settings = load_settings(postgres_config, redis_url=env.get("EHRLICH_REDIS_URL"),
                                 redis_prefix=env.get("EHRLICH_REDIS_PREFIX"))
        instance = open_instance(settings)
        try:
            (token, token_id), kept = _tokens(instance)
            for url in urls:  # both servers now hold both tokens in their caches
                assert _status(url, token) == 200
                assert _status(url, kept) == 200
            refused = _refused_within(urls, token, _revoke(instance, token_id))
        finally:
            instance.close()
        assert max(refused.values()) <= WITHIN
        for url in urls:
            assert _status(url, kept) == 200  # only the revoked token was dropped


def test_without_a_shared_channel_the_cache_lifetime_bounds_it(
        tmp_path: Path, instance_templates: InstanceTemplates) -> None:
    """SQLite without Redis: a revocation in another process is not announced, so a
    server keeps the token it cached (which is why the others above must hear of it)."""
    config = instance_templates.install(Settings(
        data_dir=tmp_path / "data", key_file=tmp_path / "keys" / "ehrlich.key"))
    config.write_text(config.read_text() + "api_token_cache_seconds = 60\n"
                      "inprocess_worker = false\n")
    with running_servers(config, 1) as (url,):
        instance = open_instance(load_settings(config))
        try:
            (token, token_id), _ = _tokens(instance)
            assert _status(url, token) == 200
            since = _revoke(instance, token_id)
        finally:
            instance.close()
        while time.monotonic() - since < 2 * WITHIN:
            assert _status(url, token) == 200
            time.sleep(0.05)
