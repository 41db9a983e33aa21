"""Password hashing parameters, rehashing, and the strength policy."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from argon2.profiles import RFC_9106_LOW_MEMORY
from hypothesis import given, settings
from hypothesis import strategies as st

from ehrlich.auth.passwords import Argon2Parameters, Passwords, check_policy
from ehrlich.errors import InvalidInput


def test_hash_uses_argon2id_with_at_least_owasp_parameters() -> None:
    stored = Passwords().hash("a long enough passphrase")
    assert stored.startswith("$argon2id$")
    params = dict(p.split("=") for p in stored.split("$")[3].split(","))
    assert int(params["m"]) >= 19 * 1024
    assert int(params["t"]) >= 2
    assert int(params["p"]) == 1


def test_verify_accepts_the_password_and_refuses_others() -> None:
    passwords = Passwords()
    stored = passwords.hash("copper kettle morning")
    assert passwords.verify(stored, "copper kettle morning")
    assert not passwords.verify(stored, "copper kettle mornin")
    assert not passwords.verify(None, "copper kettle morning")  # unknown account
    assert not passwords.verify("not a hash", "anything")


def test_weaker_stored_hash_needs_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash("pw")
    assert Passwords().needs_rehash(weak)
    assert not Passwords().needs_rehash(Passwords().hash("pw"))
    stronger = Passwords(Argon2Parameters(memory_kib=RFC_9106_LOW_MEMORY.memory_cost,
                                          time_cost=3))
    assert stronger.needs_rehash(Passwords().hash("pw"))


@pytest.mark.parametrize(("password", "reason"), [
    ("short1!", "shorter than 12"),
    ("password1234", "too easy to guess"),
    ("qwertyuiop123", "too easy to guess"),
    ("owner@example.org1", "too easy to guess"),
    ("ehrlichehrlich1", "too easy to guess"),
    ("x" * 129, "longer than 128"),
])
def test_policy_refuses_short_common_and_personal_passwords(password: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_policy(password, user_inputs=["owner@example.org"])
    assert caught.value.problems[0].field == "password"
    assert reason in caught.value.problems[0].reason


def test_policy_accepts_a_long_unusual_passphrase() -> None:
    check_policy("violet-harbour-lantern-917", user_inputs=["owner@example.org"])


@settings(max_examples=30, deadline=None)
@given(st.text(max_size=60))
def test_policy_either_accepts_or_names_the_field(password: str) -> None:
    problems: list[str] = []
    try:
        check_policy(password, user_inputs=[])
    except InvalidInput as exc:
        problems = [p.field for p in exc.problems]
    assert problems in ([], ["password"])
