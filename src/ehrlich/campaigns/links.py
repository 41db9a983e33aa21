"""What each campaign mail is made from: its templates, and the person's own links
(one-click unsubscribe, preference centre, unsubscribe mailto), signed once per batch."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ehrlich.campaigns.models import Campaign
from ehrlich.campaigns.render import CampaignTemplates
from ehrlich.campaigns.schemas import CampaignView
from ehrlich.consent.signup.links import preferences_signer
from ehrlich.consent.unsubscribe.links import (
    unsubscribe_mailto,
    unsubscribe_signer,
    unsubscribe_url,
)
from ehrlich.crypto import Keyring
from ehrlich.settings import Settings


def templates_of(campaign: Campaign | CampaignView) -> CampaignTemplates:
    return CampaignTemplates(campaign.subject, campaign.text_body, campaign.html_body)


def links_for(settings: Settings, keyring: Keyring, *, subject_id: str, purpose: str,
              channel: str, now: datetime) -> tuple[str, str, str | None]:
    """(one-click unsubscribe URL, preference centre URL, mailto) for one person."""
    return link_maker(settings, keyring, purpose=purpose, channel=channel, now=now)(subject_id)


def link_maker(settings: Settings, keyring: Keyring, *, purpose: str, channel: str,
               now: datetime) -> Callable[[str], tuple[str, str, str | None]]:
    """`links_for` for the people of one batch: the signers are made once. The same links."""
    base = settings.base_url.rstrip("/")
    unsubscribe = unsubscribe_signer(keyring, purpose=purpose, channel=channel, now=now)
    preferences = preferences_signer(keyring, now=now)
    address = settings.unsubscribe_mailto

    def links(subject_id: str) -> tuple[str, str, str | None]:
        token = unsubscribe(subject_id)
        return (unsubscribe_url(base, token), f"{base}/preferences/{preferences(subject_id)}",
                unsubscribe_mailto(address, token))

    return links
