"""Helpers the consent pages share: request evidence, page texts, the origin rule."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import Request

from ehrlich.consent.ledger.proof import Proof
from ehrlich.consent.schemas import ACTION_LABELS, METHOD_LABELS, Evidence
from ehrlich.i18n import N_, translations
from ehrlich.rights.schemas import BASIS_LABELS
from ehrlich.settings import Settings

NO_STORE = {"Cache-Control": "no-store"}


def evidence_of(request: Request) -> Evidence:
    return Evidence(ip=request.client.host if request.client else None,
                    user_agent=(request.headers.get("user-agent") or "")[:2000] or None,
                    sec_gpc=(request.headers.get("sec-gpc") or "")[:100] or None)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def allowed_origins(settings: Settings) -> set[str]:
    return {_origin(settings.base_url)} | {_origin(o) for o in settings.signup_origins.split()}


def origin_allowed(request: Request, settings: Settings, *, cross_site: bool) -> bool:
    """Posts from our own pages always; from the listed sites when `cross_site`.

    No cookie gives these forms any authority (the token in the URL, or
    nothing, does), so there is nothing for a CSRF token to protect; the origin
    rule keeps strangers from pointing their own forms at ours. A request
    without an Origin header (old browsers, curl) is let through.
    """
    origin = request.headers.get("origin")
    if origin is None:
        return True
    if origin.lower() == _origin(settings.base_url) or origin.lower() == _origin(
            str(request.base_url)):
        return True
    return cross_site and origin.lower() in allowed_origins(settings)


MESSAGES: dict[str, tuple[str, str]] = {
    "sent": (N_("Please check your mail"),
             N_("If the address is valid, we have sent a mail with a link. Nothing is sent to "
                "you until you follow it.")),
    "not_open": (N_("Signup is not open yet"),
                 N_("The privacy notice has not been published yet, so nobody can sign up. "
                    "Please come back later.")),
    "mail_off": (N_("Signups are closed"),
                 N_("Signups are closed until mail is set up, so that we can send you the "
                    "confirmation link. Please come back later.")),
    "closed": (N_("Signups are closed"),
               N_("Signups are closed until mail is set up: we could not send you the "
                  "confirmation link. Nothing was stored; please try again later.")),
    "confirmed": (N_("Thank you, confirmed"),
                  N_("Your consent is recorded. You can change it at any time.")),
    "already": (N_("Already confirmed"), N_("Nothing more is needed.")),
    "invalid": (N_("This link is not valid"),
                N_("The link is damaged or not meant for this page. Nothing was changed.")),
    "expired": (N_("This link has expired"),
                N_("Nothing was changed. Please sign up again if you still want to.")),
    "stale": (N_("This link is no longer in use"),
              N_("The request was cancelled, has expired or was made again. Nothing was "
                 "changed.")),
    "cancelled": (N_("Cancelled"), N_("You will get no mails for it. Nothing else is needed.")),
    "erased": (N_("Your data is erased"),
               N_("We hold no data about you under this link any more.")),
}
"""The title and text of each page that only says what happened (`consent/message.html`)."""

STATE_LABELS = {"none": N_("off"), "requested": N_("waiting for confirmation"),
                "active": N_("on"), "withdrawn": N_("off"), "expired": N_("off (expired)"),
                "renewal-needed": N_("needs renewal"), "objected": N_("off (objected)")}
"""How a consent state reads on the preference page (translated there)."""

DEFAULT_STATE_LABELS = {"unticked": N_("unticked")}
"""How the control's state before the person acted reads on the proof."""
EXTRA_LABELS = {"mail_template": N_("confirmation mail template"),
                "mail_sent_at": N_("confirmation mail sent at"),
                "import": N_("import"), "source": N_("source of the imported list"),
                "given_at": N_("given at, according to the list"), "reason": N_("reason"),
                "via": N_("via")}
"""The keys ehrlich itself writes into a consent event's `extra`, as the proof shows them;
keys a caller of the API chose are shown as they are."""
EXTRA_VALUE_LABELS = {"reason": {"erasure": N_("the person's data was erased"),
                                 "re-permission": N_("asked again after an import without "
                                                     "proof")},
                      "via": {"preference-link": N_("the preference link")}}
"""The values ehrlich itself writes under those keys (others are shown as they are)."""


def message_texts(lang: str, key: str) -> dict[str, str]:
    """The title and text of the message page `key`, in `lang`."""
    title, text = MESSAGES[key]
    tr = translations(lang)
    return {"title": tr.gettext(title), "text": tr.gettext(text)}


def proof_context(proof: Proof, *, purpose_title: str, channel: str) -> dict[str, Any]:
    """What `consent/_proof_tables.html` needs: the proof, its purpose's title and channel
    in the reader's words, and the tables of the ledger's fixed words (translated there).
    The stored texts (the consent text shown, hashes, form ids) stay as they were stored:
    they are the evidence."""
    return {"proof": proof, "purpose_title": purpose_title, "channel_label": channel,
            "action_labels": ACTION_LABELS, "method_labels": METHOD_LABELS,
            "basis_labels": BASIS_LABELS, "default_labels": DEFAULT_STATE_LABELS,
            "extra_labels": EXTRA_LABELS, "extra_values": EXTRA_VALUE_LABELS}
