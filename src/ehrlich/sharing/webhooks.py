"""Signed webhooks to the notice's recipients, delivered by the job queue with retries.

The signature follows Standard Webhooks v1 (https://www.standardwebhooks.com/,
the scheme of Svix and others), so a recipient can check it with any of that
project's libraries or a few lines of its own:

    webhook-id:        msg_<uuid>      (the same on every try: drop repeats by it)
    webhook-timestamp: <Unix seconds of this try>
    webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>

where `key` is the base64 part of the recipient's secret `whsec_<base64>`. The
body is JSON `{"type": …, "timestamp": …, "data": {…}}`.

The API, for any domain that must tell a recipient something:

- `Webhooks.set_endpoint(session, recipient, url, …)` configures where a
  recipient takes webhooks and returns its new secret (shown once; stored sealed
  under the KEK, like a staff member's TOTP secret).
- `Webhooks.queue(session, recipient=…, event=…, message_id=…, data=…, …)` records
  a delivery and queues its job in the caller's transaction (both exist if and
  only if it commits); None when the recipient has no endpoint.
- `register(queue, webhooks)` binds the delivery job (`WEBHOOK_TASK`): one POST
  per try, up to `RETRIES` more tries after the first with a doubling wait
  (`RETRY_DELAY` · 2ⁿ, about 2 hours in all). A 2xx answer is delivered; anything
  else is recorded (`failing`, with the tries and the last answer) and tried
  again, and after the last try `given-up`.
- `Webhooks.deliveries(session, …)` lists them with their outcome for the console.

A worker that dies during a POST runs the try again: the receiver may get a
message twice, with the same `webhook-id`.
"""

from __future__ import annotations

import base64
import http.client
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.crypto import FieldContext, Keyring
from ehrlich.crypto.digests import hmac_sha256
from ehrlich.errors import InvalidInput
from ehrlich.i18n import N_
from ehrlich.jobs import GiveUp, JobQueue, JobRun, current_job
from ehrlich.jobs import store as job_store
from ehrlich.sharing.models import RecipientEndpoint, WebhookDelivery
from ehrlich.storage.base import new_id, utcnow
from ehrlich.storage.database import Database

WEBHOOK_TASK = "sharing.webhook"
SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)
SECRET_BYTES = 32
RETRIES = 8
RETRY_DELAY = 30.0
RETRY_BACKOFF = 2.0
TIMEOUT = 10.0
MAX_URL = 500

Status = Literal["pending", "delivered", "failing", "given-up"]
STATUSES: tuple[Status, ...] = ("pending", "delivered", "failing", "given-up")


# -- signing ----------------------------------------------------------------------------


def new_secret() -> str:
    """A fresh signing secret in the Standard Webhooks form `whsec_<base64 of 32 bytes>`."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac_sha256(_key(secret), signed)).decode()


def signed_headers(secret: str, message_id: str, timestamp: int, body: bytes
                   ) -> dict[str, str]:
    """The headers of one try: id, timestamp, signature and the JSON content type."""
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, message_id, timestamp, body),
            "content-type": "application/json"}


def message_body(event: str, data: Mapping[str, Any], *, now: datetime) -> bytes:
    """The Standard Webhooks payload: `{"type", "timestamp", "data"}` as compact JSON."""
    return json.dumps({"type": event, "timestamp": now.isoformat(), "data": dict(data)},
                      ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


# -- transport --------------------------------------------------------------------------


class Transport(Protocol):
    """Posts a body; returns the HTTP status, raises `OSError` when nobody answered."""

    def post(self, url: str, body: bytes, headers: Mapping[str, str], *,
             timeout: float) -> int: ...


class HttpTransport:
    """One HTTP(S) POST with the standard library (certificates checked by its default
    context); redirects are not followed: a redirect is an answer other than 2xx, so
    the try is recorded as failing."""

    def post(self, url: str, body: bytes, headers: Mapping[str, str], *,
             timeout: float) -> int:
        parts = urlsplit(url)
        if parts.hostname is None:
            raise OSError("the endpoint has no host")
        kind = (http.client.HTTPSConnection if parts.scheme == "https"
                else http.client.HTTPConnection)
        connection = kind(parts.hostname, parts.port, timeout=timeout)
        try:
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            connection.request("POST", path, body=body,
                               headers={**headers, "user-agent": "ehrlich-webhooks/1"})
            response = connection.getresponse()
            response.read(4096)
            return response.status
        finally:
            connection.close()


def check_url(url: str) -> str:
    """An endpoint must be an absolute http(s) URL; http only for loopback."""
    url = url.strip()
    parts = urlsplit(url)
    if len(url) > MAX_URL:
        raise InvalidInput.one("url", f"at most {MAX_URL} characters")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput.one("url", "enter an absolute https:// URL, e.g. "
                               "https://crm.example.com/hooks/ehrlich")
    try:
        parts.port  # noqa: B018 (reading it checks it)
    except ValueError:
        raise InvalidInput.one("url", "the port must be a number from 1 to 65535") from None
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise InvalidInput.one("url", "use https:// (plain http only for a receiver on this "
                               "machine)")
    return url


# -- views ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EndpointView:
    recipient: str
    url: str
    set_at: datetime
    set_by: str


@dataclass(frozen=True)
class DeliveryView:
    id: str
    message_id: str
    recipient: str
    event: str
    reference: str
    status: Status
    attempts: int
    last_result: str | None
    created_at: datetime
    last_try_at: datetime | None
    next_try_at: datetime | None
    delivered_at: datetime | None


def _view(row: WebhookDelivery) -> DeliveryView:
    return DeliveryView(row.id, row.message_id, row.recipient, row.event, row.reference,
                        row.status, row.attempts, row.last_result,  # type: ignore[arg-type]
                        row.created_at, row.last_try_at, row.next_try_at, row.delivered_at)


class DeliveryFailed(Exception):
    """A try got no 2xx answer; the job queue tries again after its back-off."""


# -- the service ------------------------------------------------------------------------


class Webhooks:
    """Endpoints per recipient, signed deliveries through the job queue, their outcome."""

    def __init__(self, db: Database, keyring: Keyring, audit: AuditLog, *,
                 transport: Transport | None = None, timeout: float = TIMEOUT) -> None:
        self._db = db
        self._keyring = keyring
        self._audit = audit
        self.transport: Transport = transport or HttpTransport()
        self._timeout = timeout

    # -- endpoints ----------------------------------------------------------------------

    def _context(self, recipient: str) -> FieldContext:
        return FieldContext(table="recipient_endpoints", field="secret", record_id=recipient,
                            subject_id="")

    def set_endpoint(self, session: Session, recipient: str, url: str, *, actor: str,
                     now: datetime, rotate: bool = True) -> str | None:
        """Where `recipient` takes webhooks from now on. Returns the new signing secret
        (show it once; it cannot be read back), or None with `rotate=False` when only
        the URL of an existing endpoint changes."""
        url = check_url(url)
        row = session.get(RecipientEndpoint, recipient)
        secret = new_secret() if rotate or row is None else None
        if row is None:
            row = RecipientEndpoint(recipient=recipient, url=url, set_at=now, set_by=actor,
                                    secret_ct=b"")
            session.add(row)
        row.url, row.set_at, row.set_by = url, now, actor
        if secret is not None:
            row.secret_ct = self._keyring.provider.wrap(secret.encode(),
                                                        context=self._context(recipient))
        self._audit.record(session, AuditEvent(actor, "recipient.endpoint.set", recipient, {
            "url": url, "new_secret": secret is not None}), now=now)
        return secret

    def remove_endpoint(self, session: Session, recipient: str, *, actor: str,
                        now: datetime) -> bool:
        row = session.get(RecipientEndpoint, recipient)
        if row is None:
            return False
        session.delete(row)
        self._audit.record(session, AuditEvent(actor, "recipient.endpoint.removed", recipient),
                           now=now)
        return True

    def endpoint(self, session: Session, recipient: str) -> EndpointView | None:
        row = session.get(RecipientEndpoint, recipient)
        return EndpointView(row.recipient, row.url, row.set_at, row.set_by) if row else None

    def endpoints(self, session: Session) -> list[EndpointView]:
        rows = session.execute(select(RecipientEndpoint).order_by(
            RecipientEndpoint.recipient)).scalars()
        return [EndpointView(r.recipient, r.url, r.set_at, r.set_by) for r in rows]

    def _secret(self, row: RecipientEndpoint) -> str:
        return self._keyring.provider.unwrap(row.secret_ct,
                                             context=self._context(row.recipient)).decode()

    # -- deliveries ---------------------------------------------------------------------

    def queue(self, session: Session, *, recipient: str, event: str, message_id: str,
              data: Mapping[str, Any], reference: str, now: datetime) -> str | None:
        """Record a message for `recipient` and queue its delivery, in `session`'s
        transaction. None (nothing recorded) when the recipient has no endpoint; the
        existing delivery's id when `message_id` was queued before (so a caller may
        repeat itself)."""
        if session.get(RecipientEndpoint, recipient) is None:
            return None
        found = session.execute(select(WebhookDelivery.id).where(
            WebhookDelivery.message_id == message_id)).scalar_one_or_none()
        if found is not None:
            return found
        delivery_id = new_id()
        body = message_body(event, data, now=now)
        session.add(WebhookDelivery(
            id=delivery_id, message_id=message_id, recipient=recipient, event=event,
            reference=reference, status="pending", attempts=0, created_at=now,
            next_try_at=now,
            body_ct=self._keyring.seal_payload("webhook", delivery_id, body)))
        session.flush()
        # jobs.store, not JobQueue.enqueue_in: a domain's erasure hook queues in the
        # erasure's transaction without the instance at hand; the task is bound by
        # `register` in every process that runs jobs.
        job_store.add(session, WEBHOOK_TASK, (delivery_id,), {}, now=now)
        return delivery_id

    def attempt(self, delivery_id: str, *, final: bool, next_delay: float | None = None,
                now: datetime | None = None) -> DeliveryView:
        """One try: sign with the recipient's current secret, POST, record the outcome.
        Raises `DeliveryFailed` (try again) or `GiveUp` (`final`); the job handler calls
        it and acknowledges a delivered message in the same transaction as its record."""
        with self._db.read() as session:
            row = session.get(WebhookDelivery, delivery_id)
            if row is None:
                raise GiveUp(f"no webhook delivery {delivery_id}")
            if row.status in ("delivered", "given-up"):
                return _view(row)
            endpoint = session.get(RecipientEndpoint, row.recipient)
            body = self._keyring.open_payload("webhook", delivery_id, row.body_ct)
            message_id = row.message_id
            target = (endpoint.url, self._secret(endpoint)) if endpoint else None
        at = now or utcnow()
        if target is None:
            result, status = "the recipient has no endpoint any more", None
        else:
            url, secret = target
            headers = signed_headers(secret, message_id, int(at.timestamp()), body)
            try:
                status = self.transport.post(url, body, headers, timeout=self._timeout)
                result = f"HTTP {status}"
            except (OSError, http.client.HTTPException) as exc:  # refused, timed out, TLS,
                # not HTTP: the kind of failure only, never the body
                status, result = None, f"no answer: {type(exc).__name__}"
        ok = status is not None and 200 <= status < 300
        with self._db.write() as session:
            row = session.get(WebhookDelivery, delivery_id)
            assert row is not None  # deliveries are never deleted
            row.attempts += 1
            row.last_try_at, row.last_result = at, result[:200]
            if ok:
                row.status, row.delivered_at, row.next_try_at = "delivered", at, None
            elif final or target is None:
                row.status, row.next_try_at = "given-up", None
            else:
                row.status = "failing"
                row.next_try_at = at + timedelta(seconds=next_delay or 0)
            job = _running_job()
            if ok and job is not None:  # the record and the job's end commit together
                job.acknowledge(session)
            view = _view(row)
        if ok:
            return view
        if final or target is None:
            raise GiveUp(f"delivery {delivery_id} to {view.recipient}: {result}")
        raise DeliveryFailed(f"delivery {delivery_id} to {view.recipient}: {result}")

    def deliveries(self, session: Session, *, recipient: str | None = None,
                   reference: str | None = None, status: Status | None = None,
                   limit: int = 200) -> list[DeliveryView]:
        """The newest deliveries first, filtered by recipient, reference or status."""
        query = select(WebhookDelivery)
        if recipient is not None:
            query = query.where(WebhookDelivery.recipient == recipient)
        if reference is not None:
            query = query.where(WebhookDelivery.reference == reference)
        if status is not None:
            query = query.where(WebhookDelivery.status == status)
        rows = session.execute(query.order_by(WebhookDelivery.created_at.desc(),
                                              WebhookDelivery.id.desc()).limit(limit)).scalars()
        return [_view(r) for r in rows]


def _running_job() -> JobRun | None:
    try:
        return current_job()
    except RuntimeError:  # called outside a job (a test, `recipients retry`)
        return None


def register(queue: JobQueue, webhooks: Webhooks) -> None:
    """Bind the delivery job on `queue`: retried `RETRIES` times with a doubling wait."""

    @queue.task(WEBHOOK_TASK, retries=RETRIES, retry_delay=RETRY_DELAY,
                retry_backoff=RETRY_BACKOFF)
    def deliver(delivery_id: str) -> str:
        job = current_job()
        task = queue.tasks[WEBHOOK_TASK]
        view = webhooks.attempt(delivery_id, final=job.attempt > RETRIES,
                                next_delay=task.delay_after(job.attempt),
                                now=queue.clock())
        return view.status


# The states as the console shows them (translated there).
LABELS = {"pending": N_("pending"), "delivered": N_("delivered"), "failing": N_("failing"),
          "given-up": N_("given up")}
