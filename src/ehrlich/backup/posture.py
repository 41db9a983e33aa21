"""Posture checks: a recent verified backup exists; the recovery key left the machine;
backups go to two destinations, one off-site; manifests are signed."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from ehrlich.backup.keys import recovery_identity_path, signing_key_path
from ehrlich.backup.stores import second_destination
from ehrlich.i18n import N_, NP_
from ehrlich.posture.schemas import Finding, PostureContext, Status, check

RECENT = timedelta(days=2)


@check("backup.verified", N_("A backup from the last two days was verified"))
def recent_verified_backup(ctx: PostureContext) -> Finding:
    service = ctx.instance.backup
    listing = service.list_backups()
    where = service.store().url
    if not listing:  # a new instance has nothing to lose yet; a stale backup fails below
        return Finding(Status.WARN, N_("no complete backup at {where} yet"),
                       N_("press \"Back up now\" on the Backups page (/admin/backups) or run "
                          "`ehrlich backup create --verify`, and keep a worker running for the "
                          "scheduled backups"), {"where": where})
    newest = listing[-1]
    if ctx.now - newest.created_at > RECENT:
        return Finding(Status.FAIL, N_("the newest backup is from {when} UTC"),
                       N_("check that a worker runs (`ehrlich worker` or `ehrlich serve`) and "
                          "the logs of the job backup.scheduled"),
                       {"when": f"{newest.created_at:%Y-%m-%d %H:%M}"})
    if newest.verified != "ok":
        detail = (N_("backup {backup_id} was never verified") if newest.verified == "never"
                  else N_("backup {backup_id} failed verification"))
        return Finding(Status.WARN, detail, N_("press \"Verify now\" beside it on the Backups page "
                                                 "(/admin/backups) or run "
                                                 "`ehrlich backup verify {backup_id}`"),
                       {"backup_id": newest.backup_id})
    return Finding(Status.PASS, NP_("backup {backup_id} verified; {count} backup at {where}",
                                     "backup {backup_id} verified; {count} backups at {where}"),
                   params={"backup_id": newest.backup_id, "count": len(listing),
                           "where": where})


@check("backup.recovery_key", N_("The backup recovery identity is kept off this machine"))
def recovery_key_offline(ctx: PostureContext) -> Finding:
    path = recovery_identity_path(ctx.instance.settings.key_file)
    if path.exists():
        return Finding(Status.WARN, N_("{path} is still on this machine: whoever takes the "
                          "machine can open every backup with it"),
                       N_("copy it to offline storage (printed, or a USB key in a safe), "
                          "check the copy, then delete it here"), {"path": path})
    return Finding(Status.PASS, N_("not found beside the key file"))


def _off_site(url: str) -> bool:
    return urlsplit(url).scheme in ("sftp", "s3")


@check("backup.two_destinations", N_("Backups go to two destinations, one off-site"))
def two_destinations(ctx: PostureContext) -> Finding:
    settings = ctx.instance.backup.settings
    first = settings.effective_backup_destination
    second = second_destination(settings)
    if second is None:
        return Finding(Status.WARN, N_("backups go to {first} only: one lost disk or one "
                                       "compromised host can take every copy"),
                       N_("set backup_second_destination to an off-site store "
                          "(sftp://USER@HOST/PATH or s3://BUCKET/PREFIX)"), {"first": first})
    if not (_off_site(first) or _off_site(second)):
        return Finding(Status.WARN, N_("both destinations ({first}, {second}) are directories "
                                       "on mounted or local disks"),
                       N_("make one of them off-site (SFTP or S3) on another machine"),
                       {"first": first, "second": second})
    return Finding(Status.PASS, N_("each backup goes to {first} and {second}"),
                   params={"first": first, "second": second})


@check("backup.signed", N_("Backup manifests are signed by this instance"))
def signed_manifests(ctx: PostureContext) -> Finding:
    settings = ctx.instance.settings
    path = signing_key_path(settings)
    if not settings.backup_signing_public_key.strip():
        return Finding(Status.FAIL, N_("this instance has no backup signing key (it was made "
                                       "before backups were signed): no backup can be made"),
                       N_("run `ehrlich backup signing-key create`"))
    if not path.exists():
        return Finding(Status.FAIL, N_("the backup signing key {path} is missing: no backup "
                                       "can be made"),
                       N_("put the key back from where the backup identities are kept; "
                          "without it, move backup_signing_public_key out of the "
                          "configuration and run `ehrlich backup signing-key create`"),
                       {"path": path})
    return Finding(Status.PASS, N_("each manifest is signed with {path}"), params={"path": path})
