"""Posture check: bounces and complaints of campaign mail reach ehrlich (a webhook secret,
in the settings or made in the console, or the bounce mailbox), and the bounce mailbox
is not read over plain IMAP."""

from __future__ import annotations

from sqlalchemy import select

from ehrlich.campaigns.models import CampaignWebhookKey
from ehrlich.i18n import N_
from ehrlich.mail.imap import ImapConfig
from ehrlich.posture.checks import LOOPBACK
from ehrlich.posture.schemas import Finding, PostureContext, Status, check


@check("campaigns.bounces", N_("Bounces and complaints of campaign mail are recorded"))
def bounces(ctx: PostureContext) -> Finding:
    settings = ctx.instance.settings
    mailbox = ImapConfig.from_settings(settings, "bounce")
    with ctx.instance.db.read() as session:
        made_here = session.execute(select(CampaignWebhookKey.generation).limit(1)).first()
    webhook = settings.campaign_webhook_secret is not None or made_here is not None
    if mailbox is not None and mailbox.tls == "none" and mailbox.host not in LOOPBACK:
        return Finding(Status.FAIL, N_("the bounce mailbox at {host} is read over plain "
                                       "IMAP: its password travels readable"),
                       N_("set EHRLICH_BOUNCE_IMAP_TLS=ssl (or starttls)"),
                       {"host": mailbox.host})
    if mailbox is None and not webhook:
        if not settings.smtp_host:
            return Finding(Status.PASS, N_("no mail is sent, so none can bounce"))
        return Finding(Status.WARN,
                       N_("campaign mail that bounces or draws a complaint is not noticed: "
                          "the addresses stay in the audience and the complaint limit "
                          "cannot pause a campaign"),
                       N_("make a webhook secret on the console's Campaigns → Reports page "
                          "(or set EHRLICH_CAMPAIGN_WEBHOOK_SECRET) for your mail provider, "
                          "or set EHRLICH_BOUNCE_IMAP_HOST, _USERNAME and _PASSWORD for the "
                          "mailbox DSNs arrive in (docs/campaigns.md)"))
    if mailbox is None:
        return Finding(Status.PASS, N_("recorded by the provider's signed webhook"))
    where = {"username": mailbox.username, "host": mailbox.host, "folder": mailbox.folder}
    if not webhook:
        return Finding(Status.PASS, N_("recorded from the bounce mailbox {username} at {host}, "
                                       "folder {folder}"), params=where)
    return Finding(Status.PASS, N_("recorded by the provider's signed webhook and from the "
                                   "bounce mailbox {username} at {host}, folder {folder}"),
                   params=where)
