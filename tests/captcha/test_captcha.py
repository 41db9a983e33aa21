"""ALTCHA v2 challenges: solved once, bound to purpose and level, expiring with `now`."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from ehrlich.captcha.service import CaptchaPolicy, CaptchaService, solve
from ehrlich.counters.stores import DatabaseCounterStore
from ehrlich.instance.service import Instance
from tests.conftest import NOW


@pytest.fixture
def captcha(instance: Instance) -> CaptchaService:
    return CaptchaService(DatabaseCounterStore(instance.db), secret=b"s" * 32,
                          policy=CaptchaPolicy(base_max_number=100))


def test_a_solution_is_accepted_once(captcha: CaptchaService) -> None:
    payload = solve(captcha.challenge(purpose="login", level=0, now=NOW))
    assert captcha.verify(payload, purpose="login", min_level=0, now=NOW)
    assert not captcha.verify(payload, purpose="login", min_level=0, now=NOW)


def test_purpose_level_and_expiry_are_enforced(captcha: CaptchaService) -> None:
    payload = solve(captcha.challenge(purpose="login", level=1, now=NOW))
    assert not captcha.verify(payload, purpose="signup", min_level=0, now=NOW)
    assert not captcha.verify(payload, purpose="login", min_level=2, now=NOW)
    later = NOW + timedelta(seconds=captcha.policy.ttl_seconds + 1)
    assert not captcha.verify(payload, purpose="login", min_level=0, now=later)
    assert captcha.verify(payload, purpose="login", min_level=1, now=NOW)


def test_cost_doubles_with_each_level(captcha: CaptchaService) -> None:
    assert captcha.max_number(3) == 8 * captcha.max_number(0)


def test_a_wrong_counter_or_a_changed_challenge_fails(captcha: CaptchaService) -> None:
    payload = json.loads(base64.b64decode(
        solve(captcha.challenge(purpose="login", level=0, now=NOW))))
    wrong = json.loads(json.dumps(payload))
    wrong["solution"]["counter"] += 1
    assert not captcha.verify(base64.b64encode(json.dumps(wrong).encode()).decode(),
                              purpose="login", min_level=0, now=NOW)
    cheaper = json.loads(json.dumps(payload))
    cheaper["challenge"]["parameters"]["data"]["level"] = 5
    assert not captcha.verify(base64.b64encode(json.dumps(cheaper).encode()).decode(),
                              purpose="login", min_level=0, now=NOW)


def test_another_instance_secret_does_not_verify(captcha: CaptchaService,
                                                 instance: Instance) -> None:
    other = CaptchaService(DatabaseCounterStore(instance.db), secret=b"t" * 32)
    payload = solve(other.challenge(purpose="login", level=0, now=NOW))
    assert not captcha.verify(payload, purpose="login", min_level=0, now=NOW)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300).map(
    lambda b: base64.b64encode(b).decode()), st.recursive(
    st.none() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3), max_leaves=10
).map(lambda doc: base64.b64encode(json.dumps(doc).encode()).decode())))
def test_garbage_never_verifies_and_never_raises(payload: str) -> None:
    class NoStore:
        def claim(self, *_: object, **__: object) -> bool:
            raise AssertionError("garbage reached the replay store")

    service = CaptchaService(NoStore(), secret=b"s" * 32)  # type: ignore[arg-type]
    assert not service.verify(payload, purpose="login", min_level=0, now=NOW)



def test_public_forms_get_challenges_for_their_purpose_only(client: TestClient,
                                                            instance: Instance) -> None:
    response = client.get("/captcha/challenge", params={"purpose": "signup"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    payload = solve(response.json())
    now = datetime.now(UTC)  # the app's clock is the wall clock
    assert not instance.staff.captcha.verify(payload, purpose="login", min_level=0, now=now)
    assert instance.staff.captcha.verify(payload, purpose="signup", min_level=0, now=now)
    bad = client.get("/captcha/challenge", params={"purpose": "login"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "purpose"
