"""Signed links for consent: one-click unsubscribe.

The token alone names the person, the purpose and the channel (RFC 8058:
"the URI alone identifies recipient and list"); it is signed under a key of
its own, so it is unforgeable and never valid for another purpose. It does
not expire: an unsubscribe link in an old mail must still work.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import quote

from ehrlich.crypto import Keyring, token_signer, verify_token
from ehrlich.crypto.tokens import TokenInvalid
from ehrlich.mail.interfaces import Unsubscribe
from ehrlich.settings import Settings

UNSUBSCRIBE = "unsubscribe"


def unsubscribe_token(keyring: Keyring, *, subject_id: str, purpose: str, channel: str,
                      now: datetime) -> str:
    return unsubscribe_signer(keyring, purpose=purpose, channel=channel, now=now)(subject_id)


def unsubscribe_signer(keyring: Keyring, *, purpose: str, channel: str, now: datetime
                       ) -> Callable[[str], str]:
    """`unsubscribe_token` for many people of one purpose and channel (an export)."""
    return token_signer(keyring, purpose=UNSUBSCRIBE, now=int(now.timestamp()),
                        ttl_seconds=None, data={"p": purpose, "c": channel})


def read_unsubscribe_token(keyring: Keyring, token: str, *, now: datetime
                           ) -> tuple[str, str, str]:
    """(subject id, purpose, channel); raises `TokenInvalid` for anything forged."""
    claims = verify_token(keyring, token, purpose=UNSUBSCRIBE, now=int(now.timestamp()))
    purpose, channel = claims.data.get("p"), claims.data.get("c")
    if not isinstance(purpose, str) or not isinstance(channel, str):
        raise TokenInvalid("this link is not valid")
    return claims.subject, purpose, channel


def unsubscribe_link(settings: Settings, keyring: Keyring, *, subject_id: str, purpose: str,
                     channel: str, now: datetime) -> Unsubscribe:
    """The `Unsubscribe` for a mail: HTTPS one-click URL, and mailto when it is read."""
    token = unsubscribe_token(keyring, subject_id=subject_id, purpose=purpose,
                              channel=channel, now=now)
    return Unsubscribe(url=unsubscribe_url(settings.base_url.rstrip("/"), token),
                       mailto=unsubscribe_mailto(settings.unsubscribe_mailto, token))


def unsubscribe_url(base: str, token: str) -> str:
    """The one-click URL for `token` under the instance's `base` URL (no trailing slash)."""
    return f"{base}/unsubscribe/{token}"


def unsubscribe_mailto(address: str | None, token: str) -> str | None:
    """The mailto: URI for `token`, when an unsubscribe mailbox is read."""
    return f"mailto:{address}?subject={quote('unsubscribe ' + token)}" if address else None
