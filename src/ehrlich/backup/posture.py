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
        return Finding(Status.WARN, "no complete backup at {where} yet",
                       "run `ehrlich backup create --verify` and keep a worker running for "
                       "the scheduled backups", {"where": where})
    newest = listing[-1]
    if ctx.now - newest.created_at > RECENT:
        return Finding(Status.FAIL, "the newest backup is from {when} UTC",
                       "check that a worker runs (`ehrlich worker` or `ehrlich serve`) and "
                       "the logs of the job backup.scheduled",
                       {"when": f"{newest.created_at:%Y-%m-%d %H:%M}"})
    if newest.verified != "ok":
        detail = ("backup {backup_id} was never verified" if newest.verified == "never"
                  else "backup {backup_id} failed verification")
        return Finding(Status.WARN, detail, "run `ehrlich backup verify {backup_id}`",
                       {"backup_id": newest.backup_id})
    return Finding(Status.PASS, "backup {backup_id} verified; {count} backups at {where}",
                   params={"backup_id": newest.backup_id, "count": len(listing),
                           "where": where})


@check("backup.recovery_key", "The backup recovery identity is kept off this machine")
def recovery_key_offline(ctx: PostureContext) -> Finding:
    path = recovery_identity_path(ctx.instance.settings.key_file)
    if path.exists():
        return Finding(Status.WARN, "{path} is still on this machine: whoever takes the "
                       "machine can open every backup with it",
                       "copy it to offline storage (printed, or a USB key in a safe), "
                       "check the copy, then delete it here", {"path": path})
    return Finding(Status.PASS, "not found beside the key file")
