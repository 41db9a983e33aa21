"""What a sign-in guess costs the server and the attacker, against argon2 as baseline.

    python -m bench.staff_login [--samples 20]

Baseline: one argon2id verification (m=19 MiB, t=2, p=1), the work every
evaluated guess costs the server. Measured against it: a whole refused attempt
(`Login.password` once the CAPTCHA is required: three counter updates, the audit
entry and a new challenge, database counters on SQLite); verifying a solved
challenge; and the attacker's cost to solve one challenge per level (Python
PBKDF2, the same work the browser script does), which grows with the attack.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.report import write_section
from ehrlich.captcha.service import solve
from ehrlich.domains import open_instance
from ehrlich.instance.service import init_instance
from ehrlich.mail.interfaces import NullMailSender
from ehrlich.settings import Settings

GUESS = "not the password"


def median_ms(fn: object, samples: int) -> float:
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    settings = Settings(data_dir=tmp / "data", key_file=tmp / "keys" / "k.key")
    now = datetime.now(UTC)
    init_instance(settings, now=now)
    instance = open_instance(settings)
    login, passwords = instance.staff.login, instance.staff.users.passwords
    stored = passwords.hash("violet-harbour-lantern-917")
    argon2 = median_ms(lambda: passwords.verify(stored, "wrong guess"), args.samples)
    for i in range(5):  # escalate first
        login.password(instance.db, email="o@example.org", password=GUESS, address=f"192.0.2.{i}",
                       captcha=None, device_cookie=None, mail=NullMailSender(), now=now)
    refused = median_ms(lambda: login.password(
        instance.db, email="o@example.org", password=GUESS, address="192.0.2.9", captcha=None,
        device_cookie=None, mail=NullMailSender(), now=now), args.samples)
    payloads = [solve(login.captcha.challenge(purpose="login", level=0, now=now))
                for _ in range(args.samples)]
    verify = median_ms(lambda: login.captcha.verify(payloads.pop(), purpose="login",
                                                    min_level=0, now=now), args.samples)
    rows = []
    for level in (0, 2, 4):
        solve_ms = median_ms(lambda lv=level: solve(login.captcha.challenge(  # type: ignore[misc]
            purpose="login", level=lv, now=now)), 5)
        rows.append(f"| {level} | {login.captcha.max_number(level):,} | {solve_ms:,.0f} ms | "
                    f"{solve_ms / argon2:,.1f}× |")
    instance.close()
    body = "\n".join([
        "## Staff sign-in: cost of a guess", "",
        "Baseline: one argon2id verification (m=19 MiB, t=2, p=1), the server's work per "
        "evaluated guess. A refused attempt is a whole `Login.password` call once the "
        "CAPTCHA is required (counters in SQLite, audit entry, new challenge). Solving is "
        "the attacker's work per guess (Python PBKDF2-SHA256, 100 iterations, median of 5).",
        "",
        "| server work | median |", "|---|---:|",
        f"| argon2id verify (baseline) | {argon2:.1f} ms |",
        f"| refused attempt, CAPTCHA required | {refused:.1f} ms |",
        f"| verify a solved challenge | {verify:.2f} ms |", "",
        "| CAPTCHA level | max derivations | attacker solve time | vs argon2 verify |",
        "|---:|---:|---:|---:|", *rows])
    write_section("staff_login", body)
    print(body)


if __name__ == "__main__":
    main()
