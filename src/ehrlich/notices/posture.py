"""Posture check: a notice is published and its wording still lints clean."""

from __future__ import annotations

from ehrlich.i18n import N_, NP_
from ehrlich.notices.errors import NoticeNotPublished
from ehrlich.notices.service import check_notice
from ehrlich.posture.schemas import Finding, PostureContext, Status, check


@check("notice.published", N_("A notice is published and lints clean"))
def published_notice(ctx: PostureContext) -> Finding:
    instance = ctx.instance
    try:
        with instance.db.read() as session:
            current = instance.notices.current(session)
    except NoticeNotPublished:
        example = instance.settings.data_dir.absolute() / "notice.yaml"  # pasted anywhere
        return Finding(Status.FAIL, N_("no notice is published: people would be asked for data "
                          "without being told what is kept, why and who else gets it"),
                       N_("write your notice on the console's Notice page (/admin/notice/draft) "
                          "and publish it there, or edit {example} and run `ehrlich notice "
                          "publish {example}`"),
                       {"example": example})
    _, findings = check_notice(current.source, file=f"version {current.info.number}")
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        return Finding(Status.FAIL, NP_("version {number} has {count} lint error under the "
                           "current rules", "version {number} has {count} lint errors "
                           "under the current rules"),
                       N_("run `ehrlich notice lint` on your notice file, fix it and "
                          "publish again"),
                       {"number": current.info.number, "count": len(errors)})
    warnings = [f for f in findings if f.severity == "warning"]
    if warnings:
        return Finding(Status.WARN, NP_("version {number} is published; {count} warning",
                                         "version {number} is published; {count} warnings"),
                       N_("read the warnings on the console's Notice page "
                          "(/admin/notice/draft) or with `ehrlich notice lint`"),
                       {"number": current.info.number, "count": len(warnings)})
    return Finding(Status.PASS, N_("version {number} is published and lints clean"),
                   params={"number": current.info.number})
