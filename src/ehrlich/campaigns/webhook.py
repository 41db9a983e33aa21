"""Provider notifications of bounces and complaints: the Standard Webhooks signature and
the documented JSON payload (docs/campaigns.md).

Signature (https://www.standardwebhooks.com, "symmetric" scheme): the secret is
`whsec_` followed by base64 of the key; the sender puts three headers on the POST:

    webhook-id: msg_2Lf8...            (unique per notification; the same on a retry)
    webhook-timestamp: 1764518400      (seconds since the epoch)
    webhook-signature: v1,BASE64 [v1,BASE64 ...]

where each BASE64 is HMAC-SHA256(key, "{id}.{timestamp}.{raw body}"). Several
signatures (space-separated) let a secret be rotated; one matching is enough. A
timestamp more than five minutes from now is refused, so a captured request
cannot be replayed later; within those minutes a replay changes nothing (each
bounce and complaint is recorded once per send). Every failure is the same
`WebhookRejected`, and the body is not read further.

The secret comes from the settings (`EHRLICH_CAMPAIGN_WEBHOOK_SECRET`) or from the
console, which makes one per generation: the key is derived from the instance's
token key and the generation number (`console_key`), so only the number is stored.
Either one verifies.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ehrlich.campaigns.feedback import Feedback, Kind, normalise_message_id
from ehrlich.crypto import Keyring
from ehrlich.crypto.digests import constant_time_equal, hmac_sha256
from ehrlich.errors import ConfigurationError, InvalidInput, NotAuthenticated

PREFIX = "whsec_"
TOLERANCE = timedelta(minutes=5)
MAX_BODY_BYTES = 64 * 1024
MAX_SIGNATURES = 8


class WebhookRejected(NotAuthenticated):
    """Unsigned, stale or wrongly signed: nothing was read or changed."""


def secret_key(secret: str) -> bytes:
    """The HMAC key of a `whsec_...` secret; `ConfigurationError` for anything else."""
    encoded = secret.strip().removeprefix(PREFIX)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) < 16:
        raise ConfigurationError(
            "EHRLICH_CAMPAIGN_WEBHOOK_SECRET must be whsec_ followed by base64 of at least "
            "16 random bytes, e.g. the output of `ehrlich campaign webhook-secret`")
    return key


def console_key(keyring: Keyring, generation: int) -> bytes:
    """The key of the console's webhook secret number `generation` (32 bytes)."""
    return keyring.token_key(f"campaign-webhook:{generation}")


def as_secret(key: bytes) -> str:
    """`whsec_...`: how a key is given to a provider."""
    return PREFIX + base64.b64encode(key).decode()


def signature(key: bytes, webhook_id: str, timestamp: int, body: bytes) -> str:
    """`v1,BASE64` for one notification (what a provider sends; tests sign with it)."""
    content = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac_sha256(key, content)).decode()


def verify(key: bytes | Sequence[bytes], headers: Mapping[str, str], body: bytes, *,
           now: datetime) -> str:
    """The notification's id when `headers` sign `body` with `key` (or one of several keys)
    within the tolerance; raises `WebhookRejected` otherwise (all failures alike)."""
    keys = [key] if isinstance(key, bytes) else list(key)
    rejected = WebhookRejected("the notification is not signed with the configured "
                               "secret, or its webhook-timestamp is not within five "
                               "minutes of now (Standard Webhooks, docs/campaigns.md)")
    webhook_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "")
    if not webhook_id or len(webhook_id) > 256 or not stamp.isdigit() or len(stamp) > 12:
        raise rejected
    sent = int(stamp)
    if abs(now.timestamp() - sent) > TOLERANCE.total_seconds():
        raise rejected
    offered = [s.encode() for s in signatures.split()[:MAX_SIGNATURES]]
    expected = [signature(k, webhook_id, sent, body).encode() for k in keys]
    if not any(constant_time_equal(e, s) for e in expected for s in offered):
        raise rejected
    return webhook_id


class Notification(BaseModel):
    """The payload: one bounce or complaint about one campaign mail.

    `{"type": "bounce", "bounce_type": "hard", "message_id": "<...@shop.example>",
    "address": "ada@example.org", "status": "5.1.1"}` or
    `{"type": "complaint", "message_id": "...", "address": "ada@example.org"}`.
    """

    model_config = ConfigDict(extra="ignore")

    type: Literal["bounce", "complaint"]
    bounce_type: Literal["hard", "soft"] | None = None
    message_id: str = Field(min_length=3, max_length=200)
    address: str | None = Field(default=None, max_length=320)
    status: str | None = Field(default=None, max_length=16, pattern=r"^[245]\.\d{1,3}\.\d{1,3}$")

    def feedback(self) -> Feedback:
        message_id = normalise_message_id(self.message_id)
        if message_id is None:
            raise InvalidInput.one("message_id", "is not a Message-ID (local@domain, with or "
                                   "without angle brackets)")
        if self.type == "bounce" and self.bounce_type is None:
            raise InvalidInput.one("bounce_type", "a bounce needs bounce_type hard or soft")
        kind: Kind = "complaint" if self.type == "complaint" else (self.bounce_type or "hard")
        return Feedback(kind, message_id, self.address or None, self.status)
