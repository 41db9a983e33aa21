"""Shapes of the breach register: what staff enter, and a breach as pages show it."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from ehrlich.errors import FieldProblem, InvalidInput
from ehrlich.i18n import N_

AUTHORITY_DEADLINE = timedelta(hours=72)
"""Art. 33(1): the supervisory authority within 72 hours of becoming aware."""
TellPeople = Literal["undecided", "yes", "no"]
TELL_PEOPLE: tuple[TellPeople, ...] = ("undecided", "yes", "no")
TELL_LABELS = {"undecided": N_("not decided yet"),
               "yes": N_("yes: a high risk to their rights and freedoms (Art. 34(1))"),
               "no": N_("no (Art. 34(3)): say why")}
M = TypeVar("M", bound=BaseModel)
Status = Literal["open", "closed"]
STATUS_LABELS = {"open": N_("open"), "closed": N_("closed")}

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Long = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
ActorRef = Annotated[str, StringConstraints(
    strip_whitespace=True, pattern=r"^(token|staff):[A-Za-z0-9_-]{1,64}$")]
"""Whose reads scope the breach: `token:ID` (an API token) or `staff:ID` (an account)."""


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewBreach(_Input):
    title: Title
    what_happened: Long = ""
    noticed_at: datetime
    data_categories: list[Slug] = []
    people_estimate: Annotated[int, Field(ge=0, le=10**10)] | None = None


class BreachChanges(_Input):
    """Only the fields given change (`model_fields_set`)."""

    title: Title | None = None
    what_happened: Long | None = None
    noticed_at: datetime | None = None
    data_categories: list[Slug] | None = None
    people_estimate: Annotated[int, Field(ge=0, le=10**10)] | None = None
    consequences: Long | None = None
    measures: Long | None = None
    authority_notified_at: datetime | None = None
    authority_reference: Annotated[str, StringConstraints(max_length=200)] | None = None
    authority_not_notified: Long | None = None
    tell_people: TellPeople | None = None
    tell_people_reason: Long | None = None
    people_notified_at: datetime | None = None
    notice_en: Long | None = None
    notice_de: Long | None = None


class Scope(_Input):
    actor: ActorRef
    start: datetime
    end: datetime


@dataclass(frozen=True)
class BreachView:
    id: str
    title: str
    what_happened: str
    noticed_at: datetime
    data_categories: list[str]
    people_estimate: int | None
    scope_actor: str | None
    scope_start: datetime | None
    scope_end: datetime | None
    people_counted: int | None
    batch_rows: int | None
    counted_at: datetime | None
    consequences: str
    measures: str
    authority_notified_at: datetime | None
    authority_reference: str | None
    authority_not_notified: str | None
    tell_people: TellPeople
    tell_people_reason: str
    people_notified_at: datetime | None
    notice_en: str | None
    notice_de: str | None
    status: Status
    opened_by: str
    opened_at: datetime
    updated_by: str
    updated_at: datetime
    closed_at: datetime | None
    closed_by: str | None

    @property
    def deadline(self) -> datetime:
        return self.noticed_at + AUTHORITY_DEADLINE

    @property
    def authority_settled(self) -> bool:
        """Notified, or a reason recorded why not: the 72-hour clock has stopped."""
        return self.authority_notified_at is not None or bool(self.authority_not_notified)

    def hours_left(self, now: datetime) -> int:
        """Whole hours until the authority deadline (negative: that many hours late)."""
        return math.floor((self.deadline - now).total_seconds() / 3600)

    def overdue(self, now: datetime) -> bool:
        return not self.authority_settled and now >= self.deadline

    @property
    def people(self) -> int | None:
        """The best figure: counted from the audit chain, else the estimate."""
        return self.people_counted if self.people_counted is not None else self.people_estimate


def parse(model: type[M], **fields: object) -> M:
    """`model(**fields)`, every refusal an `InvalidInput` naming its field."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        raise InvalidInput([FieldProblem(".".join(str(p) for p in e["loc"]) or "input",
                                         e["msg"].removeprefix("Value error, "))
                            for e in exc.errors(include_input=False, include_url=False)]
                           ) from None
