"""The sign-in service: bounded guessing, CAPTCHA escalation, delays, trusted devices,
owner notices, decay, no enumeration, audit of every attempt."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from ehrlich.audit.models import AuditEntry
from ehrlich.auth.login import LoginResult
from ehrlich.auth.totp import code_at
from ehrlich.captcha.service import solve
from ehrlich.instance.service import Instance
from ehrlich.mail.interfaces import MemoryMailSender
from tests.auth.conftest import Staff
from tests.conftest import NOW


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
    assert actions(instance).count("login.captcha_required") == 20 - limit


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


def test_captcha_cost_grows_with_the_attack(
        instance: Instance, mail: MemoryMailSender, make_staff: Callable[..., Staff]) -> None:
    owner = make_staff("owner")
    levels = []
    for i in range(40):
        result = attempt(instance, mail, owner.email, "wrong", address=f"203.0.113.{i}")
        if result.challenge is not None:
            levels.append(result.challenge["parameters"]["data"]["level"])
    assert levels[0] == 0
    assert levels[-1] >= 3
    assert levels == sorted(levels)


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


def test_every_role_can_be_made_to_use_a_second_factor(
        settings: object, make_staff: Callable[..., Staff], instance: Instance,
        mail: MemoryMailSender) -> None:
    from ehrlich.auth.roles import Role
    from ehrlich.auth.service import staff_policies

    support = make_staff("support", totp=False)
    assert attempt(instance, mail, support.email, support.password).outcome == "signed_in"
    strict = staff_policies(instance.settings.model_copy(
        update={"second_factor_for_all_roles": True}))
    assert strict.second_factor_roles == frozenset(Role)
    instance.staff.login.second_factor_roles = strict.second_factor_roles
    assert attempt(instance, mail, support.email, support.password,
                   address="198.51.100.8").outcome == "enrol"
