"""Cards a domain adds to the console's overview (`registry.add_overview_card`).

A card names a template (in the domain's own `templates` folder), the permission a
role needs to see it, and a function that reads what it shows. The overview calls the
function in its read transaction for each role allowed; `None` means nothing to show
now, and the card is left out. The template reads the value as `card`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy.orm import Session

from ehrlich.auth.roles import Permission

S = TypeVar("S")


class ServiceLookup(Protocol):
    """What a card reads through: the instance's domain services (named here rather than
    importing `Instance`, whose registry carries the cards, so the two never import each
    other)."""

    def service(self, kind: type[S]) -> S: ...


@dataclass(frozen=True)
class OverviewCard:
    template: str
    permission: Permission
    build: Callable[[ServiceLookup, Session, datetime], object | None]
