"""Attack over real HTTP: 500 wrong passwords for one account from 50 client addresses,
spread over two `ehrlich serve` processes sharing PostgreSQL and Redis. The attacker
solves no CAPTCHA, so the owner's stays at the cheapest level.

The servers sit behind a (simulated) reverse proxy on 127.0.0.1, which is what
`trusted_proxies` names, so uvicorn takes the client address from the
X-Forwarded-For header this test sets, exactly as it would behind nginx.
"""

from __future__ import annotations

import html
import json
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2 as httpx
import pytest
import redis
from sqlalchemy import func, select

from ehrlich.audit.models import AuditEntry
from ehrlich.auth.guide import current_guide
from ehrlich.auth.roles import Role
from ehrlich.auth.sessions import STAGE_FULL
from ehrlich.auth.throttle import Throttle, ThrottlePolicy
from ehrlich.auth.totp import code_at
from ehrlich.captcha.service import solve
from ehrlich.counters.stores import RedisCounterStore
from ehrlich.domains import open_instance
from ehrlich.settings import Settings
from tests.e2e.servers import running_servers
from tests.instances import InstanceTemplates

pytestmark = pytest.mark.slow

OWNER = "owner@example.org"
PASSWORD = "violet-harbour-lantern-917"
ATTEMPTS, ADDRESSES = 500, 50
CAPTCHA_AFTER = 3  # the documented bound: guesses per account and window without a CAPTCHA


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]*)"', page)
    assert found
    return found.group(1)


def _attacker(url: str, address: str, tries: int) -> list[int]:
    with httpx.Client(base_url=url, headers={"X-Forwarded-For": address}, timeout=30) as c:
        csrf = _csrf(c.get("/admin/login").text)
        return [c.post("/admin/login", data={"email": OWNER, "password": f"guess-{i}",
                                             "csrf": csrf}).status_code for i in range(tries)]


def _real_user(urls: list[str], secret: str) -> tuple[int, str, int]:
    """Sign in on one server (solving the CAPTCHA), enter the code on the other."""
    with httpx.Client(headers={"X-Forwarded-For": "192.0.2.10"}, timeout=60) as c:
        csrf = _csrf(c.get(f"{urls[0]}/admin/login").text)
        first = c.post(f"{urls[0]}/admin/login", data={"email": OWNER, "password": PASSWORD,
                                                       "csrf": csrf})
        assert first.status_code == 401
        page, level, refusals = first, 0, 1
        # While the attack goes on the required cost can rise between the challenge and the
        # answer; the browser then simply solves the new challenge, as a person's would.
        for _ in range(3):
            found = re.search(r'data-altcha-challenge="([^"]+)"', page.text)
            assert found, "the real user is asked for the CAPTCHA like everyone"
            challenge = json.loads(html.unescape(found.group(1)))
            level = max(level, int(challenge["parameters"]["data"]["level"]))
            second = c.post(f"{urls[0]}/admin/login", data={
                "email": OWNER, "password": PASSWORD, "csrf": csrf, "altcha": solve(challenge)},
                follow_redirects=False)
            if second.status_code != 401:
                break
            page, refusals = second, refusals + 1
        assert second.status_code == 303, second.text
        assert second.headers["location"] == "/admin/login/code"
        page = c.get(f"{urls[1]}/admin/login/code").text
        done = c.post(f"{urls[1]}/admin/login/code", data={
            "code": code_at(secret, datetime.now(UTC)), "csrf": _csrf(page)},
            follow_redirects=False)
        assert done.headers.get("location") == "/admin", done.text
        dashboard = c.get(f"{urls[1]}/admin")
        return level, dashboard.text, refusals


def test_guessing_is_bounded_and_the_owner_still_gets_in(
        tmp_path: Path, postgres_url: str, redis_url: str,
        instance_templates: InstanceTemplates) -> None:
    prefix = f"ehrlich-test:{uuid.uuid4().hex}:"
    settings = Settings(data_dir=tmp_path / "data", key_file=tmp_path / "keys" / "k.key",
                        database_url=postgres_url, redis_url=redis_url, redis_prefix=prefix)
    now = datetime.now(UTC)
    instance_templates.install(settings)
    instance = open_instance(settings)
    with instance.db.write() as session:
        owner, _ = instance.staff.users.add(session, email=OWNER, role=Role.OWNER,
                                            actor="test", actor_role=Role.OWNER, now=now,
                                            password=PASSWORD)
        token = instance.staff.sessions.create(session, owner.id, stage=STAGE_FULL, now=now)
        row = instance.staff.sessions.row(session, token)
        assert row is not None
        secret = instance.staff.users.begin_enrolment(session, owner.id, row).secret
        earlier = now - timedelta(minutes=2)
        instance.staff.users.confirm_enrolment(session, owner.id, row, code_at(secret, earlier),
                                               now=earlier)
        instance.staff.users.acknowledge_guide(session, owner.id,
                                               current_guide(settings.data_dir).hash, now=now)

    env = {"EHRLICH_REDIS_URL": redis_url, "EHRLICH_REDIS_PREFIX": prefix,
           "EHRLICH_INPROCESS_WORKER": "false", "EHRLICH_TRUSTED_PROXIES": "127.0.0.1",
           "EHRLICH_CAPTCHA_BASE_NUMBER": "200"}
    addresses = [f"203.0.113.{i + 1}" for i in range(ADDRESSES)]
    per_address = ATTEMPTS // ADDRESSES
    try:
        with running_servers(settings.data_dir / "ehrlich.toml", 2, env=env) as urls, \
                ThreadPoolExecutor(max_workers=6) as pool:
            first_half = [pool.submit(_attacker, urls[i % 2], a, per_address)
                          for i, a in enumerate(addresses[: ADDRESSES // 2])]
            statuses = [s for f in first_half for s in f.result()]
            rest = [pool.submit(_attacker, urls[i % 2], a, per_address)
                    for i, a in enumerate(addresses[ADDRESSES // 2:])]
            level, dashboard, owner_refusals = _real_user(urls, secret)  # during the attack
            statuses += [s for f in rest for s in f.result()]

        assert len(statuses) == ATTEMPTS
        assert set(statuses) == {401}  # the same answer whatever happened
        assert level == 0, "unsolved guesses do not make the owner's CAPTCHA dearer"
        assert "Protection report" in dashboard

        # Refused attempts are audited once per account and window, with their count; the
        # attack may straddle a window boundary, so report the next two closing windows.
        window = settings.login_window_seconds
        later = datetime.now(UTC)
        for ahead in (window, 2 * window):
            instance.staff.login.report_refusals(instance.db,
                                                 now=later + timedelta(seconds=ahead))
        with instance.db.read() as session:
            def count(action: str) -> int:
                return int(session.execute(select(func.count()).select_from(AuditEntry).where(
                    AuditEntry.action == action)).scalar_one())

            evaluated = count("login.failed")
            reports = [json.loads(d) for d in session.execute(select(AuditEntry.detail).where(
                AuditEntry.action == "login.refused")).scalars()]
            assert count("login.second_factor_ok") == 1
            assert instance.audit.verify_chain(session).ok
        assert evaluated <= CAPTCHA_AFTER
        assert 1 <= len(reports) <= 2  # not one entry per refused request
        # every attempt accounted for, the owner's refused ones (before a good CAPTCHA) too
        assert evaluated + sum(r["count"] for r in reports) == ATTEMPTS + owner_refusals

        # The counters the attack left behind keep the owner's level at the cheapest.
        client = redis.Redis.from_url(redis_url)
        throttle = Throttle(RedisCounterStore(client, prefix=prefix),
                            ThrottlePolicy(window_seconds=window),
                            key=instance.keyring.token_key("throttle"))
        assert throttle.current_level(OWNER, "203.0.113.1", now=datetime.now(UTC)) == 0
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
        client.close()
    finally:
        instance.close()
