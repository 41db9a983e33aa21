"""Posture check of mail, registered by `ehrlich.mailroom.install`."""

from __future__ import annotations

import re
from email.utils import parseaddr

from ehrlich.i18n import N_
from ehrlich.mail.smtp import SmtpConfig
from ehrlich.mail.status import TURN_ON
from ehrlich.notices.branding import public_brand
from ehrlich.posture.schemas import Finding, PostureContext, Status, check


@check("mail.smtp", N_("Mail is sent"))
def smtp(ctx: PostureContext) -> Finding:
    settings = ctx.instance.settings
    config = SmtpConfig.from_settings(settings)
    if config is None:
        return Finding(
            Status.WARN,
            N_("mail is off: no SMTP server is configured, so nothing is sent, not even the "
               "confirmation mail a signup needs"), TURN_ON)
    return Finding(Status.PASS, N_("mail goes to {server} (TLS: {tls}) from {sender}"),
                   params={"server": f"{config.host}:{config.port}", "tls": config.tls,
                           "sender": settings.smtp_from})


_SPECIALS = re.compile(r'[()<>\[\]:;@\\,."]')


def named(name: str, address: str) -> str:
    """`Name <address>` as smtp_from takes it: the name quoted only where RFC 5322 needs
    it, and left in its own characters (the mail builder encodes it on the wire)."""
    if _SPECIALS.search(name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{address}>"


@check("mail.sender_name", N_("Mail says who sends it"))
def sender_name(ctx: PostureContext) -> Finding:
    """A From without a name shows people a bare address in their inbox, where they look
    for a name they know before they open or trust a mail (a confirmation, a newsletter).
    The name is the operator's to choose, so the fix suggests the shop's own."""
    settings = ctx.instance.settings
    if SmtpConfig.from_settings(settings) is None or not settings.smtp_from:
        return Finding(Status.PASS, N_("no mail is sent yet (see \"Mail is sent\")"))
    name, address = parseaddr(settings.smtp_from)
    if name.strip():
        return Finding(Status.PASS, N_("mail comes from {sender}"),
                       params={"sender": settings.smtp_from})
    brand = public_brand(ctx.instance.db, ctx.instance.notices)
    suggested = named("Your Shop" if brand.provisional else brand.name, address)
    return Finding(
        Status.WARN,
        N_("mail comes from {address} with no name: inboxes show people only the address, "
           "not a name they know"),
        N_("give smtp_from a name: smtp_from = '{suggested}' (EHRLICH_SMTP_FROM)"),
        params={"address": address, "suggested": suggested})
