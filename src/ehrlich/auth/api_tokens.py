"""Scoped API tokens: `ehr_<id>_<secret>`, stored as SHA-256 of the secret.

The secret is 256 random bits, so a fast hash is enough; the id lets a lookup
hit one row, and the comparison is constant-time.

`ApiTokenCache` keeps tokens that verified for a few seconds, so an
integration calling the API in a loop does not read the token table on every
request. A revocation is announced to every process (`revocation.py`: Redis
pub/sub, or PostgreSQL NOTIFY), which drops the token at once; on the
single-process SQLite default the revoking process drops it itself, and another
process (e.g. `ehrlich token revoke` beside `ehrlich serve`) is heard only when
the entry expires (`api_token_cache_seconds`).
"""

from __future__ import annotations

import base64
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.auth.errors import InvalidApiToken, MissingScope
from ehrlich.auth.models import ApiToken
from ehrlich.auth.revocation import LocalRevocations, Revocations
from ehrlich.crypto.digests import constant_time_equal, sha256
from ehrlich.errors import FieldProblem, InvalidInput
from ehrlich.i18n import N_
from ehrlich.storage.database import Database

SCOPES: dict[str, str] = {  # what each lets a token do, for the console and --help
    "subjects:read": N_("read and search subjects (decrypts personal data)"),
    "subjects:write": N_("create and rectify subjects (includes subjects:read)"),
    "subjects:erase": N_("erase subjects"),
    "audit:read": N_("read and verify the audit chain"),
    "consent:read": N_("check consent by email address, read consent histories"),
    "audience:read": N_("export the addresses of an audience (decrypts personal data)"),
    "signups:write": N_("sign people up for consent purposes (double opt-in)"),
    "campaigns:write": N_("write draft campaigns (sending stays with staff)"),
}
IMPLIED: dict[str, set[str]] = {"subjects:write": {"subjects:read"}}
RECIPIENT_SCOPE = re.compile(r"recipient:[a-z][a-z0-9_-]{0,62}")
"""`recipient:<id>`: pull releases for that recipient of the notice, nothing else."""
PREFIX = "ehr_"
# "Last used" is written at most this often per token: a busy integration would
# otherwise turn every API read into a write.
LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class ApiPrincipal:
    token_id: str
    name: str
    scopes: frozenset[str]

    @property
    def actor(self) -> str:
        return f"token:{self.token_id}"

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise MissingScope(f"this token lacks the scope {scope!r}")


def _expand(scopes: set[str]) -> frozenset[str]:
    result = set(scopes)
    for scope in scopes:
        result |= IMPLIED.get(scope, set())
    return frozenset(result)


def _scope_problem(scopes: list[str]) -> FieldProblem | None:
    """What is wrong with the scopes asked for (blank ones do not count), named as typed
    (console form, `--scope`), not as a Python list."""
    if not scopes:
        return FieldProblem("scope", "choose at least one")
    unknown = sorted({s for s in scopes if s not in SCOPES and not RECIPIENT_SCOPE.fullmatch(s)})
    if unknown:
        return FieldProblem("scope", f"unknown: {', '.join(unknown)}; choose from "
                            f"{', '.join(SCOPES)} or recipient:ID")
    return None


def create_api_token(session: Session, *, name: str, scopes: list[str],
                     now: datetime) -> tuple[str, ApiToken]:
    """Return the token string (shown once) and its stored record."""
    scopes = [s.strip() for s in scopes if s.strip()]
    problems = [p for p in (_scope_problem(scopes),
                            None if name.strip() else FieldProblem("name", "is empty")) if p]
    if problems:
        raise InvalidInput(problems)
    token_id = secrets.token_hex(8)
    secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    record = ApiToken(id=token_id, name=name.strip()[:200], scopes=" ".join(sorted(set(scopes))),
                      secret_hash=sha256(secret.encode()), created_at=now)
    session.add(record)
    session.flush()
    return f"{PREFIX}{token_id}_{secret}", record


def authenticate_api_token(session: Session, token: str) -> ApiPrincipal:
    invalid = InvalidApiToken("the API token is missing, unknown or revoked")
    if not token.startswith(PREFIX) or token.count("_") < 2:
        raise invalid
    token_id, secret = token[len(PREFIX):].split("_", 1)
    record = session.get(ApiToken, token_id)
    if record is None or record.revoked_at is not None:
        sha256(secret.encode())  # same work whether or not the id exists
        raise invalid
    if not constant_time_equal(record.secret_hash, sha256(secret.encode())):
        raise invalid
    return ApiPrincipal(record.id, record.name, _expand(set(record.scopes.split())))


def revoke_api_token(session: Session, token_id: str, *, now: datetime) -> None:
    record = session.get(ApiToken, token_id)
    if record is None:
        raise InvalidInput.one("token_id", "no such token")
    record.revoked_at = record.revoked_at or now


def list_api_tokens(session: Session) -> list[ApiToken]:
    return list(session.execute(select(ApiToken).order_by(ApiToken.created_at)).scalars())


def issue_api_token(session: Session, audit: AuditLog, *, name: str, scopes: list[str],
                    actor: str, now: datetime) -> tuple[str, ApiToken]:
    """Create a token and write who made it, with which scopes, to the audit chain."""
    token, record = create_api_token(session, name=name, scopes=scopes, now=now)
    audit.record(session, AuditEvent(actor, "api_token.create", f"token:{record.id}",
                                     {"scopes": record.scopes}), now=now)
    return token, record


def withdraw_api_token(session: Session, audit: AuditLog, token_id: str, *, actor: str,
                       now: datetime) -> None:
    """Revoke a token and write it to the audit chain."""
    revoke_api_token(session, token_id, now=now)
    audit.record(session, AuditEvent(actor, "api_token.revoke", f"token:{token_id}"),
                 now=now)


def mark_used(session: Session, token_id: str, *, now: datetime) -> None:
    """Set "last used", unless it was set less than `LAST_USED_PRECISION` ago."""
    session.execute(update(ApiToken).where(
        ApiToken.id == token_id,
        or_(ApiToken.last_used_at.is_(None),
            ApiToken.last_used_at < now - LAST_USED_PRECISION)).values(last_used_at=now))


class ApiTokenCache:
    """Principals of recently verified tokens, for `ttl` seconds (0 turns caching off).

    Keyed by the SHA-256 of the whole token, so the cache holds no secret; only
    successes are kept, so a new token works at once and a wrong one always
    costs a lookup. At most `size` entries, the oldest dropped first.
    """

    def __init__(self, ttl: float, *, size: int = 1024,
                 clock: Callable[[], float] = time.monotonic,
                 revocations: Revocations | None = None) -> None:
        self._ttl = ttl
        self._size = size
        self._clock = clock
        self._entries: OrderedDict[bytes, tuple[float, ApiPrincipal]] = OrderedDict()
        self._marked: dict[str, datetime] = {}
        self._lock = threading.Lock()
        self.revocations: Revocations = revocations or LocalRevocations()
        # Bumped by every forget: a lookup that began before it does not store its result.
        self._generation = 0
        # False while a shared listener is down: then nothing is served from the cache.
        self._listening = True

    def revoke_in(self, session: Session, token_id: str) -> None:
        """Call in the transaction that revokes `token_id`: every process drops it once
        that commits (this one after the commit, others when they hear of it)."""
        self.revocations.announce(session, token_id)
        event.listen(session, "after_commit", lambda _s: self.forget(token_id), once=True)

    def listen(self) -> Callable[[], None]:
        """Hear other processes' revocations (a serving process); returns what stops it."""
        if self._ttl <= 0 or not self.revocations.shared:
            return lambda: None
        return self.revocations.listen(self)

    def set_listening(self, listening: bool) -> None:
        with self._lock:
            self._listening = listening

    def forget_all(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generation += 1

    def needs_mark(self, token_id: str, now: datetime) -> bool:
        """True at most once per `LAST_USED_PRECISION` per token in this process."""
        with self._lock:
            last = self._marked.get(token_id)
            if last is not None and now - last < LAST_USED_PRECISION:
                return False
            if len(self._marked) >= self._size:
                self._marked.clear()
            self._marked[token_id] = now
            return True

    def cached(self, token: str) -> ApiPrincipal | None:
        """The principal if the token verified less than `ttl` seconds ago."""
        if self._ttl <= 0:
            return None
        key = sha256(token.encode())
        with self._lock:
            if not self._listening:
                return None
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._entries[key]
                return None
            return entry[1]

    def authenticate(self, db: Database, token: str) -> ApiPrincipal:
        """Verify against the token table and remember the result."""
        with self._lock:
            generation = self._generation
        with db.read() as session:
            principal = authenticate_api_token(session, token)
        if self._ttl > 0:
            key = sha256(token.encode())
            with self._lock:
                if generation != self._generation:
                    return principal  # a revocation came in meanwhile: this read may be older
                self._entries[key] = (self._clock() + self._ttl, principal)
                self._entries.move_to_end(key)
                while len(self._entries) > self._size:
                    self._entries.popitem(last=False)
        return principal

    def forget(self, token_id: str) -> None:
        """Drop a revoked token's entries in this process at once."""
        with self._lock:
            self._generation += 1
            for key in [k for k, (_, p) in self._entries.items() if p.token_id == token_id]:
                del self._entries[key]
