"""The mails of the rights domain: the person's link to their data, and the owners'
reminder of requests that fall due. Plain text, from the catalogue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ehrlich.i18n import translations
from ehrlich.mail.interfaces import Letter, OutgoingMail
from ehrlich.rights.links import LINK_HOURS
from ehrlich.rights.schemas import KIND_LABELS, RequestView


def link_letter(url: str, *, language: str, controller: str) -> Letter:
    tr = translations(language)
    text = "\n\n".join((
        tr.gettext("Hello,"),
        tr.gettext("you asked to see the data %(controller)s holds about you. Follow this "
                   "link to see it, download it, correct it or have it erased:")
        % {"controller": controller},
        url,
        tr.gettext("The link works for %(hours)s hours and only for you: do not pass it on. "
                   "If you did not ask for it, you need not do anything.")
        % {"hours": LINK_HOURS},
    )) + "\n"
    return Letter(subject=tr.gettext("Your data at %(controller)s") % {"controller": controller},
                  text=text, category="transactional", language=language)


def reminder_mail(to: str, due: Sequence[RequestView], *, console_url: str,
                  now: datetime) -> OutgoingMail:
    """To an owner: the open requests that fall due soon (no personal data: ids, kinds,
    dates)."""
    tr = translations("en")
    lines = [f"- {tr.gettext(KIND_LABELS[r.kind])}, due {r.due:%Y-%m-%d}: "
             f"{console_url}/admin/requests/{r.id}" for r in due]
    text = "\n".join((
        f"{len(due)} data request(s) fall due soon (checked {now:%Y-%m-%d %H:%M} UTC). "
        "People must get an answer within one month of their request (GDPR Art. 12(3)); "
        "extend a request, with a reason, if it needs longer.", "", *lines)) + "\n"
    return OutgoingMail(to=to, subject=f"{len(due)} data request(s) due soon", text=text,
                        category="transactional", language="en")
