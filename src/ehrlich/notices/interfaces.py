"""What publishing needs from the consent ledger, as a small protocol.

When a purpose widens (new recipient, new data category, longer retention,
changed consent text or channel), the consents given for it under the old
notice no longer cover what happens; `publish` asks the marker, in the same
transaction, to mark them as needing renewal. The consent domain plugs in the
real marker; until then `NullRenewalMarker` marks nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session


class RenewalMarker(Protocol):
    def mark_for_renewal(self, session: Session, purpose_ids: Sequence[str], *,
                         notice_version: int, now: datetime) -> int:
        """Mark current consents for these purposes as needing renewal; return how many
        people are affected."""
        ...

    def count_for_renewal(self, session: Session, purpose_ids: Sequence[str]) -> int:
        """How many people `mark_for_renewal` would affect now, without writing."""
        ...


class NullRenewalMarker:
    """No consent ledger: nothing to mark."""

    def mark_for_renewal(self, session: Session, purpose_ids: Sequence[str], *,
                         notice_version: int, now: datetime) -> int:
        return 0

    def count_for_renewal(self, session: Session, purpose_ids: Sequence[str]) -> int:
        return 0
