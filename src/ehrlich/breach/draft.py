"""The draft notice to the people affected (GDPR Art. 34(2)), in English and German.

Art. 34(2) asks for clear and plain language and at least: the name and contact of
the data protection officer (or another contact point), the likely consequences, and
the measures taken or proposed. The draft is made from the breach record and the
published notice (controller, DPO, data-category names, supervisory authority); staff
edit it on the breach page, and the edited text is kept in place of the draft.
"""

from __future__ import annotations

from ehrlich.breach.schemas import BreachView
from ehrlich.i18n import LANGUAGES, N_, translations
from ehrlich.notices.schemas import Notice

_OPENING = N_("Dear Sir or Madam,")
_WHAT = N_("On %(date)s we found a breach of the security of your personal data: %(title)s.")
_CATEGORIES = N_("The data concerned: %(categories)s.")
_CONSEQUENCES = N_("What this may mean for you: %(consequences)s")
_MEASURES = N_("What we have done and will do: %(measures)s")
_CONTACT = N_("If you have questions, please contact %(contact)s.")
_COMPLAIN = N_("You also have the right to lodge a complaint with the supervisory "
               "authority: %(authority)s.")
_CLOSING = N_("We apologise for this incident.")


def draft_notice(breach: BreachView, notice: Notice | None, language: str) -> str:
    """The text staff start from; nothing of any one person is in it."""
    tr = translations(language)
    _ = tr.gettext
    names = notice.data_categories if notice is not None else {}
    categories = ", ".join((names.get(c) or {}).get(language) or (names.get(c) or {}).get(
        "en") or c for c in breach.data_categories)
    paragraphs = [_(_OPENING),
                  _(_WHAT) % {"date": breach.noticed_at.strftime("%Y-%m-%d"),
                              "title": breach.title}]
    if breach.what_happened:
        paragraphs.append(breach.what_happened)
    if categories:
        paragraphs.append(_(_CATEGORIES) % {"categories": categories})
    if breach.consequences:
        paragraphs.append(_(_CONSEQUENCES) % {"consequences": breach.consequences})
    if breach.measures:
        paragraphs.append(_(_MEASURES) % {"measures": breach.measures})
    if notice is not None:
        controller = notice.controller
        contact = (f"{controller.dpo.name + ', ' if controller.dpo.name else ''}"
                   f"{controller.dpo.contact}" if controller.dpo else controller.contact)
        paragraphs.append(_(_CONTACT) % {"contact": contact})
        if controller.supervisory_authority:
            paragraphs.append(_(_COMPLAIN) % {"authority": controller.supervisory_authority})
        paragraphs += [_(_CLOSING), controller.name]
    else:
        paragraphs.append(_(_CLOSING))
    return "\n\n".join(paragraphs)


def notices_of(breach: BreachView, notice: Notice | None) -> dict[str, str]:
    """Per language: the text staff saved, else the draft."""
    saved = {"en": breach.notice_en, "de": breach.notice_de}
    return {lang: saved.get(lang) or draft_notice(breach, notice, lang) for lang in LANGUAGES}
