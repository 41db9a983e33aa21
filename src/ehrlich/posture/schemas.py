"""What a posture check reports: pass, warn or fail, with a concrete fix."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ehrlich.instance.service import Instance


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a status, not a password
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Finding:
    status: Status
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    status: Status
    detail: str
    fix: str


@dataclass(frozen=True)
class PostureContext:
    instance: Instance
    now: datetime


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    run: Callable[[PostureContext], Finding]


def check(check_id: str, title: str) -> Callable[[Callable[[PostureContext], Finding]], Check]:
    """Turn a small function into a named check; register it in the domain's `install`."""

    def wrap(fn: Callable[[PostureContext], Finding]) -> Check:
        return Check(check_id, title, fn)

    return wrap


@dataclass(frozen=True)
class Report:
    results: list[CheckResult]

    @property
    def failed(self) -> bool:
        return any(r.status == Status.FAIL for r in self.results)

    def counts(self) -> dict[str, int]:
        return {s.value: sum(1 for r in self.results if r.status == s) for s in Status}
