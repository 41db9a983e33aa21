"""Posture check: a mailto: unsubscribe address is advertised only when its mailbox is read."""

from __future__ import annotations

from ehrlich.i18n import N_
from ehrlich.mail.imap import ImapConfig
from ehrlich.posture.checks import LOOPBACK
from ehrlich.posture.schemas import Finding, PostureContext, Status, check


@check("consent.unsubscribe_mailbox", N_("Unsubscribe requests sent by mail are read"))
def unsubscribe_mailbox(ctx: PostureContext) -> Finding:
    settings = ctx.instance.settings
    address = settings.mail_unsubscribe_mailto
    config = ImapConfig.from_settings(settings)
    if config is None:
        if address:
            return Finding(Status.WARN,
                           N_("mail_unsubscribe_mailto is {address}, but no reader "
                              "is configured for that mailbox, so mails carry no mailto: "
                              "unsubscribe"),
                           N_("set EHRLICH_UNSUBSCRIBE_IMAP_HOST, _USERNAME and "
                              "_PASSWORD to that mailbox's login, or unset "
                              "EHRLICH_MAIL_UNSUBSCRIBE_MAILTO"), {"address": address})
        return Finding(Status.PASS, N_("no mailto: is advertised; people unsubscribe by link"))
    if config.tls == "none" and config.host not in LOOPBACK:
        return Finding(Status.FAIL, N_("the unsubscribe mailbox at {host} is read over "
                          "plain IMAP: its password travels readable"),
                       N_("set EHRLICH_UNSUBSCRIBE_IMAP_TLS=ssl (or starttls)"),
                       {"host": config.host})
    where = {"username": config.username, "host": config.host, "port": config.port,
             "folder": config.folder, "address": address}
    if not address:
        return Finding(Status.PASS, N_("{username} at {host}:{port}, folder {folder} is read, "
                          "though no mailto: is advertised (EHRLICH_MAIL_UNSUBSCRIBE_MAILTO is "
                          "unset)"), params=where)
    return Finding(Status.PASS, N_("mailto:{address} is advertised; {username} at {host}:{port}, "
                      "folder {folder} is read every five minutes by the worker or "
                      "`ehrlich mail read-unsubscribes`"), params=where)
