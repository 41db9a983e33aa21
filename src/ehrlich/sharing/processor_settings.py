"""What a processor sync is configured with (method, fields, schedule, destination), how
its settings are checked, and the views of syncs and runs the pages show."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from ehrlich.errors import FieldProblem, InvalidInput
from ehrlich.i18n import N_
from ehrlich.notices.schemas import Purpose

METHODS = ("sftp", "webhook")
SCHEDULES: dict[str, timedelta | None] = {
    "manual": None, "hourly": timedelta(hours=1), "daily": timedelta(days=1)}
CONTACT_FIELDS = ("email", "phone")
"""The data categories a sync can carry: what a person record holds in a form to send."""
LINKS = "links"
LINK_COLUMNS = ("unsubscribe_url", "preferences_url")
# What the pages show of a sync's schedule and its runs (translated there).
LABELS = {"manual": N_("manual"), "hourly": N_("hourly"), "daily": N_("daily"),
          "full": N_("full"), "changes": N_("changes"), "removals": N_("removals"),
          "running": N_("running"), "ok": N_("ok"), "failed": N_("failed"),
          "processor": N_("processor"), "controller": N_("controller")}
STALE_RUN = timedelta(hours=1)
"""A run claimed longer ago than this is taken to have died with its process."""
_USER = re.compile(r"^[A-Za-z0-9._][A-Za-z0-9._-]{0,63}$")
_HOST = re.compile(r"^[A-Za-z0-9.:-]{1,255}$")
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class SyncSettings:
    """How a sync pushes, as the console's form and the CLI give it."""

    method: str
    fields: tuple[str, ...]
    schedule: str = "manual"
    endpoint: str = ""
    sftp_host: str = ""
    sftp_port: int = 22
    sftp_user: str = ""
    sftp_path: str = ""
    sftp_key: str = ""
    sftp_known_hosts: str = ""


@dataclass(frozen=True)
class RunView:
    id: str
    kind: str
    actor: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    added: int
    removed: int
    batch_id: str | None
    detail: str
    changed: int = 0
    """rectified people the processor holds, sent again"""


@dataclass(frozen=True)
class SyncView:
    id: str
    recipient: str
    purpose: str
    settings: SyncSettings
    next_run_at: datetime | None
    last_success_at: datetime | None
    updated_at: datetime
    updated_by: str
    runs: list[RunView] = field(default_factory=list)


@dataclass(frozen=True)
class Change:
    """One step of a push: people added or changed (rows of `columns`), or ids removed."""

    kind: str
    """`added`, `changed` (a rectified person the processor holds) or `removed`."""
    rows: list[tuple[str, ...]]


def allowed_fields_of(purpose: Purpose) -> tuple[str, ...]:
    declared = tuple(f for f in CONTACT_FIELDS if f in purpose.data_categories)
    return (*declared, LINKS) if purpose.legal_basis == "consent" else declared



def endpoint_of(s: SyncSettings) -> tuple[str, ...]:
    """The SFTP destination (a webhook's endpoint is the recipient's, set apart)."""
    return (s.sftp_host, str(s.sftp_port), s.sftp_user, s.sftp_path)


def checked_settings(s: SyncSettings, allowed: Sequence[str]) -> SyncSettings:
    """The settings, cleaned; or every field's problem as `InvalidInput`."""
    problems: list[FieldProblem] = []

    def bad(name: str, reason: str) -> None:
        problems.append(FieldProblem(name, reason))

    if s.method not in METHODS:
        bad("method", "choose sftp or webhook")
    if s.schedule not in SCHEDULES:
        bad("schedule", f"choose one of {', '.join(SCHEDULES)}")
    fields = tuple(dict.fromkeys(f.strip() for f in s.fields if f.strip()))
    undeclared = [f for f in fields if f not in allowed]
    if undeclared:
        bad("fields", f"{', '.join(undeclared)}: not declared for this recipient and purpose "
            f"in the published notice (allowed: {', '.join(allowed) or 'the id only'})")
    if s.method == "webhook":
        check_url(s.endpoint.strip(), bad)
        s = replace(s, sftp_host="", sftp_port=22, sftp_user="", sftp_path="", sftp_key="",
                    sftp_known_hosts="")
    elif s.method == "sftp":
        _check_sftp(s, bad)
        s = replace(s, endpoint="")
    if problems:
        raise InvalidInput(problems)
    return replace(s, fields=fields, endpoint=s.endpoint.strip(),
                   sftp_host=s.sftp_host.strip(), sftp_user=s.sftp_user.strip(),
                   sftp_path=posixpath.normpath(s.sftp_path.strip()) if s.sftp_path else "",
                   sftp_key=s.sftp_key.strip(), sftp_known_hosts=s.sftp_known_hosts.strip())


def check_url(url: str, bad: Callable[[str, str], None]) -> None:
    parts = urlsplit(url)
    if len(url) > 500 or not parts.hostname or parts.scheme not in ("https", "http"):
        bad("endpoint", "enter the processor's https:// URL")
    elif parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        bad("endpoint", "use https:// (plain http only to this machine, for testing)")
    elif parts.username or parts.password:
        bad("endpoint", "leave credentials out of the URL: messages are signed instead")


def _check_sftp(s: SyncSettings, bad: Callable[[str, str], None]) -> None:
    if not _HOST.fullmatch(s.sftp_host.strip()):
        bad("sftp_host", "enter the SFTP server's host name or address")
    if not 1 <= s.sftp_port <= 65535:
        bad("sftp_port", "enter a port between 1 and 65535")
    if not _USER.fullmatch(s.sftp_user.strip()):
        bad("sftp_user", "enter the user name on the SFTP server (letters, digits, . _ -)")
    path = s.sftp_path.strip()
    if not path.startswith("/") or len(path) > 500 or ".." in path.split("/"):
        bad("sftp_path", "enter an absolute folder on the server, e.g. /upload/ehrlich")
    for name, given, required in (("sftp_key", s.sftp_key, True),
                                  ("sftp_known_hosts", s.sftp_known_hosts, False)):
        value = given.strip()
        if not value and not required:
            continue
        if not value.startswith("/"):
            bad(name, "enter the absolute path of the file on this server")
        elif not Path(value).is_file():
            bad(name, f"{value} is not a readable file on this server")
