"""Posture checks: a recent verified backup exists; the recovery key left the machine."""

from __future__ import annotations

from datetime import timedelta

from ehrlich.backup.keys import recovery_identity_path
from ehrlich.posture.schemas import Finding, PostureContext, Status, check

RECENT = timedelta(days=2)


@check("backup.verified", "A backup from the last two days was verified")
def recent_verified_backup(ctx: PostureContext) -> Finding:
    service = ctx.instance.backup
    listing = service.list_backups()
    where = service.store().url
    if not listing:  # a new instance has nothing to lose yet; a stale backup fails below
        return Finding(Status.WARN, f"no complete backup at {where} yet",
                       "run `ehrlich backup create --verify` and keep a worker running for "
                       "the scheduled backups")
    newest = listing[-1]
    if ctx.now - newest.created_at > RECENT:
        return Finding(Status.FAIL, f"the newest backup is from "
                       f"{newest.created_at:%Y-%m-%d %H:%M} UTC",
                       "check that a worker runs (`ehrlich worker` or `ehrlich serve`) and "
                       "the logs of the job backup.scheduled")
    if newest.verified != "ok":
        return Finding(Status.WARN, f"backup {newest.backup_id} is {newest.verified} verified",
                       f"run `ehrlich backup verify {newest.backup_id}`")
    return Finding(Status.PASS, f"backup {newest.backup_id} verified; "
                   f"{len(listing)} backups at {where}")


@check("backup.recovery_key", "The backup recovery identity is kept off this machine")
def recovery_key_offline(ctx: PostureContext) -> Finding:
    path = recovery_identity_path(ctx.instance.settings.key_file)
    if path.exists():
        return Finding(Status.WARN, f"{path} is still on this machine: whoever takes the "
                       "machine can open every backup with it",
                       "copy it to offline storage (printed, or a USB key in a safe), "
                       "check the copy, then delete it here")
    return Finding(Status.PASS, "not found beside the key file")
