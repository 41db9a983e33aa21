"""The signed link behind which a person sees and manages their data (`/my-data/{token}`).

One use (its own signing key, so no other link of ehrlich verifies here, and
this one nowhere else), one person (the subject id), and a short life: the link
opens everything held about the person, so it expires after `LINK_HOURS`. The
token also carries when it was issued, which names the self-service request it
answers in the queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from ehrlich.crypto import Keyring, sign_token, verify_token
from ehrlich.crypto.tokens import TokenInvalid

PURPOSE = "rights-my-data"
LINK_HOURS = 24


@dataclass(frozen=True)
class LinkClaims:
    subject_id: str
    issued_at: datetime
    expires_at: datetime


def my_data_token(keyring: Keyring, *, subject_id: str, now: datetime) -> str:
    issued = int(now.timestamp())
    return sign_token(keyring, purpose=PURPOSE, subject=subject_id, now=issued,
                      ttl_seconds=LINK_HOURS * 3600, data={"i": issued})


def read_my_data_token(keyring: Keyring, token: str, *, now: datetime) -> LinkClaims:
    """Raises `TokenInvalid` (or its subclass `TokenExpired`)."""
    claims = verify_token(keyring, token, purpose=PURPOSE, now=int(now.timestamp()))
    issued = claims.data.get("i")
    if not isinstance(issued, int) or claims.expires_at is None:
        raise TokenInvalid("this link is not valid; request a new one")
    return LinkClaims(claims.subject, datetime.fromtimestamp(issued, UTC),
                      datetime.fromtimestamp(claims.expires_at, UTC))
