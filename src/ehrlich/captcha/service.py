"""Self-hosted proof-of-work CAPTCHA (ALTCHA protocol v2, verified in-process).

A challenge asks the browser to find the counter whose PBKDF2-SHA256 key
starts with a given prefix; the server picks the counter, so the work is
about half of `max_number` derivations, doubling with each level. Verifying
costs one derivation. The protocol has no replay protection of its own:
each solved challenge is claimed once in the shared store and remembered
until it expires. Expiry is carried in the signed `data` and checked
against the `now` given, so time stays a parameter.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import altcha

from ehrlich.counters.interfaces import CounterStore

ALGORITHM = "PBKDF2/SHA-256"
MAX_PAYLOAD_CHARS = 4096
# The cost model behind `affordable_level` (docs/security.md, "CAPTCHA cost"):
PHONE_SHA256_PER_SECOND = 800_000
OWNER_BUDGET_SECONDS = 5.0


@dataclass(frozen=True)
class CaptchaPolicy:
    ttl_seconds: int = 600
    iterations: int = 100
    base_max_number: int = 4000


class CaptchaService:
    def __init__(self, store: CounterStore, *, secret: bytes,
                 policy: CaptchaPolicy | None = None) -> None:
        self._store = store
        self._secret = secret
        self.policy = policy or CaptchaPolicy()

    def max_number(self, level: int) -> int:
        return int(self.policy.base_max_number * 2 ** max(0, level))

    def worst_case_seconds(self, level: int) -> float:
        """The longest a slow phone takes to solve a challenge of `level`.

        The counter lies below `max_number(level)`, so at worst that many keys are
        derived. Each derivation is PBKDF2-HMAC-SHA256 with `iterations` rounds: two
        SHA-256 compressions per round, plus about two for the key set-up. A slow
        phone is taken to do `PHONE_SHA256_PER_SECOND` (800,000) compressions a second
        through WebCrypto: about a fifth of a laptop, which solved level 8 (4,000 x 256
        counters, 100 rounds) in 35 s, i.e. ~3.7 million compressions a second.
        """
        per_key = 2 * self.policy.iterations + 2
        return self.max_number(level) * per_key / PHONE_SHA256_PER_SECOND

    def affordable_level(self, budget_seconds: float = OWNER_BUDGET_SECONDS) -> int:
        """The highest level whose worst case stays within the owner's budget on a new
        device (5 s); 0 even when level 0 alone is dearer (lower the base number then)."""
        level = 0
        while self.worst_case_seconds(level + 1) <= budget_seconds:
            level += 1
        return level

    def challenge(self, *, purpose: str, level: int, now: datetime) -> dict[str, Any]:
        """A signed challenge as the JSON object the solver script reads."""
        top = self.max_number(level)
        counter = top // 4 + secrets.randbelow(top - top // 4)
        expires = int((now + timedelta(seconds=self.policy.ttl_seconds)).timestamp())
        made = altcha.create_challenge(
            ALGORITHM, self.policy.iterations, counter=counter,
            data={"purpose": purpose, "level": level, "exp": expires},
            hmac_secret=self._secret)
        result: dict[str, Any] = made.to_dict()
        return result

    def verify(self, payload: str | None, *, purpose: str, min_level: int,  # noqa: PLR0911
               now: datetime) -> bool:
        """True once for a correct, unexpired solution of a strong enough challenge."""
        if not payload or len(payload) > MAX_PAYLOAD_CHARS:
            return False
        try:
            decoded = json.loads(base64.b64decode(payload, validate=True))
            data = decoded["challenge"]["parameters"].get("data") or {}
            signature = str(decoded["challenge"]["signature"])
        except (binascii.Error, ValueError, KeyError, TypeError, AttributeError):
            return False
        if not isinstance(data, dict) or data.get("purpose") != purpose:
            return False
        level, expires = data.get("level"), data.get("exp")
        if not isinstance(level, int) or not isinstance(expires, int):
            return False
        if level < min_level or expires <= now.timestamp():
            return False
        if not altcha.verify_solution(payload, self._secret).verified:
            return False
        until = datetime.fromtimestamp(expires, tz=now.tzinfo)
        return self._store.claim(f"captcha:{signature[:64]}", until=until, now=now)


def solve(challenge: dict[str, Any]) -> str:
    """Solve a challenge the way the browser script does (for tests and tools)."""
    made = altcha.Challenge.from_dict(challenge)
    solution = altcha.solve_challenge(made)
    if solution is None:
        raise ValueError("challenge could not be solved")
    return altcha.Payload(made, solution).to_base64()
