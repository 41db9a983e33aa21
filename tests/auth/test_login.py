"""The sign-in service: bounded guessing, CAPTCHA escalation, delays, trusted devices,
owner notices, decay, no enumeration, audit of every attempt."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from ehrlich.audit.models import AuditEntry
from ehrlich.auth.login import LoginResult
from ehrlich.auth.totp import code_at
from ehrlich.captcha.service import solve
from ehrlich.instance.service import Instance
from ehrlich.mail.interfaces import MemoryMailSender
from tests.conftest import NOW
from tests.factories import Staff


def attempt(instance: Instance, mail: MemoryMailSender, email: str, password: str, *,
            address: str = "198.51.100.7", captcha: str | None = None,
            device: str | None = None, seconds: float = 0) -> LoginResult:
    return instance.staff.login.password(
        instance.db, email=email, password=password, address=address, captcha=captcha,
        device_cookie=device, mail=mail, now=NOW + timedelta(seconds=seconds))


def actions(instance: Instance, prefix: str = "login.") -> list[str]:
    with instance.db.read() as session:
        return [a for a in session.execute(select(AuditEntry.action).order_by(AuditEntry.seq))
                .scalars() if a.startswith(prefix)]


def test_only_a_few_guesses_are_evaluated_without_a_captcha(
        instance: Instance, mail: MemoryMailSender, make_staff: Callable[..., Staff]) -> None:
    owner = make_staff("owner")
    outcomes = [attempt(instance, mail, owner.email, f"guess-{i}", address=f"203.0.113.{i}",
                        seconds=i).outcome for i in range(20)]
    limit = instance.staff.login.throttle.policy.captcha_after_account
    assert outcomes[:limit] == ["failed"] * limit
    assert set(outcomes[limit:]) == {"captcha"}
    assert actions(instance).count("login.failed") == limit
    assert refusals(instance) == {owner.id: 20 - limit}


def refusals(instance: Instance, *, after: float | None = None) -> dict[str, int]:
    """The refused attempts, as audited once the window has closed: target -> count."""
    window = instance.staff.login.throttle.policy.window_seconds
    later = NOW + timedelta(seconds=window if after is None else after)
    instance.staff.login.report_refusals(instance.db, now=later)
    with instance.db.read() as session:
        entries = session.execute(select(AuditEntry).where(
            AuditEntry.action == "login.refused")).scalars()
        return {e.target: json.loads(e.detail)["count"] for e in entries}


def test_refused_attempts_are_audited_once_per_account_and_window_with_a_count(
        instance: Instance, mail: MemoryMailSender, make_staff: Callable[..., Staff]) -> None:
    owner = make_staff("owner")
    for i in range(50):
        attempt(instance, mail, owner.email, "wrong", address=f"203.0.113.{i % 250}")
        attempt(instance, mail, "nobody@example.org", "wrong", address=f"198.51.100.{i % 250}")
    limit = instance.staff.login.throttle.policy.captcha_after_account
    assert actions(instance, "login.captcha") == []
    assert actions(instance, "login.refused") == []  # the window is still open
    assert refusals(instance) == {owner.id: 50 - limit, "unknown-account": 50 - limit}
    assert actions(instance, "login.refused") == ["login.refused"] * 2
    refusals(instance, after=1.5 * instance.staff.login.throttle.policy.window_seconds)
    assert actions(instance, "login.refused") == ["login.refused"] * 2  # reported once
    with instance.db.read() as session:
        assert instance.audit.verify_chain(session).ok


def test_even_the_right_password_needs_the_captcha_once_escalated(
        instance: Instance, mail: MemoryMailSender, make_staff: Callable[..., Staff]) -> None:
    owner = make_staff("owner")
    for i in range(5):
        attempt(instance, mail, owner.email, "wrong", address=f"203.0.113.{i}")
    blocked = attempt(instance, mail, owner.email, owner.password)
    assert blocked.outcome == "captcha"
    assert blocked.challenge is not None
    payload = solve(blocked.challenge)
    assert attempt(instance, mail, owner.email, owner.password,
                   captcha=payload).outcome == "second_factor"
    replayed = attempt(instance, mail, owner.email, owner.password, captcha=payload)
    assert replayed.outcome == "captcha"


def relax_second_factor(instance: Instance) -> None:
    """As `second_factor_for_all_roles = false` would: owners and admins only."""
    from ehrlich.auth.roles import SECOND_FACTOR_ALWAYS

    instance.staff.login.second_factor_roles = SECOND_FACTOR_ALWAYS


def _level(result: LoginResult) -> int:
    assert result.challenge is not None
    level: int = result.challenge["parameters"]["data"]["level"]
    return level


def test_unsolved_attempts_do_not_raise_the_captcha_level(
        instance: Instance, mail: MemoryMailSender, make_staff: Callable[..., Staff]) -> None:
    owner = make_staff("owner")
    for i in range(100):  # ten times what reaches the top level when unsolved ones count
        attempt(instance, mail, owner.email, "wrong", address=f"203.0.113.{i % 250}")
    throttle = instance.staff.login.throttle
    assert throttle.current_level(owner.email, "192.0.2.9", now=NOW) == 0
    blocked = attempt(instance, mail, owner.email, owner.password, address="192.0.2.9")
    assert _level(blocked) == 0  # the owner's new device pays the cheapest check
    assert attempt(instance, mail, owner.email, owner.password, address="192.0.2.9",
                   captcha=solve(blocked.challenge or {})).outcome == "second_factor"


def test_captcha_cost_grows_only_with_solved_wrong_guesses_up_to_what_the_owner_affords(
        instance: Instance, mail: MemoryMailSender, make_staff: Callable[..., Staff]) -> None:
    owner = make_staff("owner")
    levels = []
    result = attempt(instance, mail, owner.email, "wrong")
    for i in range(24):
        payload = solve(result.challenge) if result.challenge is not None else None
        result = attempt(instance, mail, owner.email, "wrong", address=f"203.0.113.{i}",
                         captcha=payload)
        if result.challenge is not None:
            levels.append(_level(result))
        else:
            assert result.outcome == "failed"
    throttle = instance.staff.login.throttle
    assert levels == sorted(levels)
    assert levels[0] == 0
    assert levels[-1] == throttle.level_for(len(levels) + 3) >= 2  # one step per doubling
    top = throttle.policy.max_captcha_level
    assert throttle.level_for(10**6) == top
    captcha = instance.staff.captcha
    assert top == captcha.affordable_level()
    assert captcha.worst_case_seconds(top) <= 5 < captcha.worst_case_seconds(top + 1)


def test_the_top_level_costs_a_slow_phone_under_five_seconds() -> None:
    from ehrlich.auth.service import staff_policies
    from ehrlich.captcha.service import PHONE_SHA256_PER_SECOND, CaptchaService
    from ehrlich.settings import Settings

    policies = staff_policies(Settings())  # the defaults an instance starts with
    captcha = CaptchaService(None, secret=b"k" * 32, policy=policies.captcha)  # type: ignore[arg-type]
    top = min(policies.throttle.max_captcha_level, captcha.affordable_level())
    counters = captcha.max_number(top)  # the worst case: the very last counter
    compressions = counters * (2 * policies.captcha.iterations + 2)
    assert compressions / PHONE_SHA256_PER_SECOND < 5
    assert PHONE_SHA256_PER_SECOND <= 1_000_000  # a phone, not a laptop


def test_unknown_accounts_take_the_same_path(
        instance: Instance, mail: MemoryMailSender, make_staff: Callable[..., Staff]) -> None:
    make_staff("owner")
    known = [attempt(instance, mail, "owner-5@example.org", "wrong", seconds=i).outcome
             for i in range(5)]
    unknown = [attempt(instance, mail, "nobody@example.org", "wrong", address="192.0.2.1",
                       seconds=i).outcome for i in range(5)]
    assert known == unknown


def test_a_trusted_device_signs_in_during_an_attack_without_a_captcha(
        instance: Instance, mail: MemoryMailSender, make_staff: Callable[..., Staff]) -> None:
    relax_second_factor(instance)  # a device cookie straight from the password step
    support = make_staff("support", totp=False)
    device = attempt(instance, mail, support.email, support.password).device_cookie
    assert device is not None
    for i in range(30):
        attempt(instance, mail, support.email, "wrong", address=f"203.0.113.{i}")
    assert attempt(instance, mail, support.email, support.password).outcome == "captcha"
    result = attempt(instance, mail, support.email, support.password, device=device)
    assert result.outcome == "signed_in"
    other = make_staff("marketer", totp=False)
    for i in range(10):
        attempt(instance, mail, other.email, "wrong", address=f"203.0.113.{i}")
    assert attempt(instance, mail, other.email, other.password, device=device,
                   address="203.0.113.1").outcome == "captcha"  # bound to its account


def test_growing_delays_per_account_and_address(
        instance: Instance, mail: MemoryMailSender, make_staff: Callable[..., Staff]) -> None:
    relax_second_factor(instance)
    support = make_staff("support", totp=False)
    device = attempt(instance, mail, support.email, support.password).device_cookie
    results = [attempt(instance, mail, support.email, "wrong", device=device)
               for _ in range(5)]
    # three free failures, then one evaluated guess per growing delay
    assert [r.outcome for r in results] == ["failed"] * 4 + ["wait"]
    assert results[4].retry_after == 2
    later = NOW + timedelta(seconds=120)
    payload = solve(instance.staff.login.challenge_for(support.email, "198.51.100.7",
                                                       now=later))
    assert attempt(instance, mail, support.email, "wrong", device=device, captcha=payload,
                   seconds=120).outcome == "failed"


def test_the_account_owner_is_told_once_per_window(
        instance: Instance, mail: MemoryMailSender, make_staff: Callable[..., Staff]) -> None:
    owner = make_staff("owner")
    for i in range(30):
        attempt(instance, mail, owner.email, "wrong", address=f"203.0.113.{i}")
    assert [m.to for m in mail.sent] == [owner.email]
    assert mail.sent[0].category == "security"
    assert "password" not in mail.sent[0].subject.lower()


def test_counters_decay_after_the_attack(
        instance: Instance, mail: MemoryMailSender, make_staff: Callable[..., Staff]) -> None:
    owner = make_staff("owner")
    for i in range(20):
        attempt(instance, mail, owner.email, "wrong", address=f"203.0.113.{i}")
    assert attempt(instance, mail, owner.email, owner.password).outcome == "captcha"
    window = instance.staff.login.throttle.policy.window_seconds
    later = attempt(instance, mail, owner.email, owner.password, seconds=2 * window + 1)
    assert later.outcome == "second_factor"


def test_second_factor_codes_work_once_and_wrong_codes_restart(
        instance: Instance, mail: MemoryMailSender, make_staff: Callable[..., Staff]) -> None:
    owner = make_staff("owner")
    assert owner.secret is not None
    first = attempt(instance, mail, owner.email, owner.password)
    assert first.session_token is not None
    code = code_at(owner.secret, NOW)
    ok = instance.staff.login.second_factor(instance.db, token=first.session_token, code=code,
                                            address="198.51.100.7", now=NOW)
    assert ok.outcome == "signed_in"
    assert ok.session_token != first.session_token
    second = attempt(instance, mail, owner.email, owner.password)
    assert second.session_token is not None
    reused = instance.staff.login.second_factor(instance.db, token=second.session_token,
                                                code=code, address="198.51.100.7", now=NOW)
    assert reused.outcome == "failed"
    outcomes = [instance.staff.login.second_factor(
        instance.db, token=second.session_token, code="000000", address="198.51.100.7",
        now=NOW).outcome for _ in range(4)]
    assert outcomes[-1] == "restart"
    assert "login.second_factor_failed" in actions(instance)


def test_every_role_needs_a_second_factor_unless_an_owner_relaxes_it(
        make_staff: Callable[..., Staff], instance: Instance, mail: MemoryMailSender) -> None:
    from ehrlich.auth.posture import second_factor
    from ehrlich.auth.roles import SECOND_FACTOR_ALWAYS, Role
    from ehrlich.auth.service import staff_policies
    from ehrlich.posture.schemas import PostureContext, Status
    from ehrlich.settings import Settings

    assert Settings().second_factor_for_all_roles
    assert staff_policies(Settings()).second_factor_roles == frozenset(Role)
    assert instance.staff.login.second_factor_roles == frozenset(Role)
    make_staff("owner")
    for role in ("marketer", "support", "auditor"):
        staff = make_staff(role, totp=False)
        assert attempt(instance, mail, staff.email, staff.password,
                       address="198.51.100.8").outcome == "enrol", role
    context = PostureContext(instance=instance, now=NOW)
    assert second_factor.run(context).status == Status.FAIL  # three accounts lack it

    relaxed = staff_policies(Settings(second_factor_for_all_roles=False))
    assert relaxed.second_factor_roles == SECOND_FACTOR_ALWAYS
    relax_second_factor(instance)
    support = make_staff("support", totp=False, email="relaxed@example.org")
    assert attempt(instance, mail, support.email, support.password,
                   address="198.51.100.9").outcome == "signed_in"
    finding = second_factor.run(context)
    assert finding.status == Status.WARN
    assert "marketer, support, auditor" in finding.detail
    assert "second_factor_for_all_roles" in finding.fix
