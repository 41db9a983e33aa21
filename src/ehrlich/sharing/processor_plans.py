"""What a processor sync's run sends: planned from what the processor holds
(`processor_members`, as of the last successful run) against the audience now.

A full run sends everyone; a changes run the people added, the ids of those who left
(removals) and the people held whose record was rectified since the last successful
run (`changed`: sent again with their fields as they are now, GDPR Art. 16 and 19); a
removals run (every few minutes) only the ids of those who left.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select

from ehrlich.consent.ledger.audience import still_in_audience, stream_audience
from ehrlich.notices.schemas import Purpose
from ehrlich.sharing.models import ProcessorMember
from ehrlich.sharing.processor_settings import SyncView
from ehrlich.storage.database import Database
from ehrlich.subjects.listing import changed_since


@dataclass
class Plan:
    kind: str
    """`full`, `changes` or `removals`."""
    added: list[str]
    removed: list[str]
    changed: list[str] = field(default_factory=list)
    """People the processor holds whose fields were rectified since the last successful
    run: sent again, as `changed` rows, so its copy is corrected too (GDPR Art. 16, 19)."""


def held_members(db: Database, sync_id: str, batch_size: int) -> Iterator[list[str]]:
    """The ids the processor holds, in id order, a batch at a time."""
    after = ""
    while True:
        with db.read() as session:
            ids = list(session.execute(
                select(ProcessorMember.subject_id)
                .where(ProcessorMember.sync_id == sync_id, ProcessorMember.subject_id > after)
                .order_by(ProcessorMember.subject_id).limit(batch_size)).scalars())
        if ids:
            yield ids
        if len(ids) < batch_size:
            return
        after = ids[-1]


def plan_run(db: Database, sync: SyncView, purpose: Purpose, versions: list[int], *,
             removals_only: bool, batch_size: int) -> Plan:
    """What the run sends (see the module's text)."""
    if removals_only:
        removed: list[str] = []
        for chunk in held_members(db, sync.id, batch_size):
            still = still_in_audience(db, purpose.id, purpose.channel, chunk,
                                      notice_versions=versions)
            removed += [sid for sid in chunk if sid not in still]
        return Plan("removals", [], removed)
    held = {sid for chunk in held_members(db, sync.id, batch_size) for sid in chunk}
    current: list[str] = []
    for chunk in stream_audience(db, purpose.id, purpose.channel, batch_size=batch_size,
                                 notice_versions=versions):
        current += chunk
    now_in = set(current)
    changed: list[str] = []
    if sync.last_success_at is not None:
        members = select(ProcessorMember.subject_id).where(ProcessorMember.sync_id == sync.id)
        with db.read() as session:
            changed = sorted(changed_since(session, members, sync.last_success_at) & now_in)
    return Plan("full" if sync.last_success_at is None else "changes",
                [sid for sid in current if sid not in held], sorted(held - now_in), changed)
