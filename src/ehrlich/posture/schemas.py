"""What a posture check reports: pass, warn or fail, with a concrete fix."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from ehrlich.audit.service import AuditLog
from ehrlich.auth.service import StaffService
from ehrlich.backup.service import BackupService
from ehrlich.i18n import Plural
from ehrlich.notices.service import NoticesService
from ehrlich.posture.i18n import translate
from ehrlich.settings import Settings
from ehrlich.storage.database import Database
from ehrlich.subjects.ledger import ErasureLedger


class Services(Protocol):
    """What checks may read: the parts of an `Instance` they need (named here rather than
    importing `Instance`, which carries the checks, so the two never import each other)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def db(self) -> Database: ...
    @property
    def audit(self) -> AuditLog: ...
    @property
    def backup(self) -> BackupService: ...
    @property
    def staff(self) -> StaffService: ...
    @property
    def notices(self) -> NoticesService: ...
    @property
    def ledger(self) -> ErasureLedger: ...


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 - a status, not a password
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Finding:
    """What a check found. With `params`, `detail` and `fix` are templates
    (`"{count} accounts"`, or `NP_("{count} account", "{count} accounts")` to have the
    form follow `count`): the report fills them in, in the reader's language
    (`posture.i18n`); the values themselves (paths, addresses, numbers) stay as they are."""

    status: Status
    detail: str
    fix: str = ""
    params: Mapping[str, object] = field(default_factory=dict)
    detail_template: str | Plural = field(init=False, repr=False)
    fix_template: str | Plural = field(init=False, repr=False)

    def __init__(self, status: Status, detail: str | Plural, fix: str | Plural = "",
                 params: Mapping[str, object] | None = None) -> None:
        # `detail` and `fix` read as English text; the templates stay for translation.
        object.__setattr__(self, "status", status)
        object.__setattr__(self, "params", dict(params or {}))
        object.__setattr__(self, "detail_template", detail)
        object.__setattr__(self, "fix_template", fix)
        object.__setattr__(self, "detail", translate(detail, self.params))
        object.__setattr__(self, "fix", translate(fix, self.params))


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    status: Status
    detail: str
    fix: str


@dataclass(frozen=True)
class PostureContext:
    instance: Services
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

    def by_urgency(self) -> list[CheckResult]:
        """Failures first, then warnings, then what holds; in check order within each, so
        the reader starts with what needs doing."""
        return sorted(self.results, key=lambda r: URGENCY.index(r.status))


URGENCY = (Status.FAIL, Status.WARN, Status.PASS)
