"""Campaign errors, each with a message the user can act on."""

from __future__ import annotations

from ehrlich.errors import Conflict, NotFound


class CampaignNotFound(NotFound):
    pass


class CampaignStateError(Conflict):
    """The action does not fit the campaign's status (e.g. editing a sent one)."""


class CampaignBusy(Conflict):
    """Another worker is sending this campaign right now."""
