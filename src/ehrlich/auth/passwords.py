"""Password hashing (argon2id) and the password policy.

Parameters are at least OWASP's minimum (m=19 MiB, t=2, p=1); a stored hash
made with weaker parameters is replaced at the next successful login.
Strength is judged by zxcvbn, whose dictionaries of common and leaked
passwords, names and keyboard patterns come with the package; they are loaded (about
14 MiB) when a password is first judged, not by every process that can sign staff in.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ehrlich.errors import InvalidInput

MIN_LENGTH = 12
MAX_LENGTH = 128
MIN_SCORE = 3  # zxcvbn: "safely unguessable: moderate protection from offline attacks"
# Context-specific words (ASVS 6.1.2): product, roles, and what a console is called.
CONTEXT_WORDS = ["ehrlich", "owner", "admin", "marketer", "support", "auditor", "console",
                 "staff", "login", "password", "privacy", "gdpr", "dsgvo"]


@dataclass(frozen=True)
class Argon2Parameters:
    memory_kib: int = 19 * 1024
    time_cost: int = 2
    parallelism: int = 1


class Passwords:
    def __init__(self, parameters: Argon2Parameters | None = None) -> None:
        p = parameters or Argon2Parameters()
        self._hasher = PasswordHasher(time_cost=p.time_cost, memory_cost=p.memory_kib,
                                      parallelism=p.parallelism)
        # Verified when the account is unknown, so both paths cost the same time.
        self._dummy = _dummy_hash(p)

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)


@cache
def _dummy_hash(parameters: Argon2Parameters) -> str:
    """A hash with these parameters of a password nobody has: made once per process, not for
    every instance a process opens (each command, each test)."""
    return PasswordHasher(time_cost=parameters.time_cost, memory_cost=parameters.memory_kib,
                          parallelism=parameters.parallelism).hash("ehrlich timing equaliser")


def check_policy(password: str, *, user_inputs: list[str], field: str = "password") -> None:
    """Refuse short, long, common or guessable passwords with a reason the user can act on."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput.one(field, f"is shorter than {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise InvalidInput.one(field, f"is longer than {MAX_LENGTH} characters")
    from zxcvbn import zxcvbn

    result = zxcvbn(password, user_inputs=[*user_inputs, *CONTEXT_WORDS])
    if result["score"] < MIN_SCORE:
        feedback = result.get("feedback", {})
        hint = (feedback.get("warning") or "it is a common or easily guessed password").rstrip(".")
        tips = " ".join(feedback.get("suggestions") or [])
        raise InvalidInput.one(field, f"is too easy to guess: {hint}. {tips}".strip())
