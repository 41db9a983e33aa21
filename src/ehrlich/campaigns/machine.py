"""The campaign state machine: which action is allowed in which status.

Pure: no database, no clock. `transition(status, action)` returns the new
status or raises `CampaignStateError` naming both.

- Only a `draft` can be edited; `schedule` and `send` leave it for good.
- `start` is the worker taking a scheduled campaign up (or `send`, which goes
  straight to `sending`); `finish` is the worker finding nothing left to send.
- `pause` holds a sending or scheduled campaign; `resume` puts it back to
  `sending` (the worker picks it up again where the send table says it stopped).
- `cancel` ends anything not yet finished; `sent` and `cancelled` are final.
"""

from __future__ import annotations

from typing import Final, Literal

from ehrlich.campaigns.errors import CampaignStateError

Status = Literal["draft", "scheduled", "sending", "paused", "sent", "cancelled"]
Action = Literal["edit", "schedule", "send", "start", "pause", "resume", "finish", "cancel"]

STATUSES: Final[tuple[Status, ...]] = ("draft", "scheduled", "sending", "paused", "sent",
                                       "cancelled")
ACTIONS: Final[tuple[Action, ...]] = ("edit", "schedule", "send", "start", "pause", "resume",
                                      "finish", "cancel")
FINAL: Final[frozenset[Status]] = frozenset({"sent", "cancelled"})

_RULES: Final[dict[Action, dict[Status, Status]]] = {
    "edit": {"draft": "draft"},
    "schedule": {"draft": "scheduled"},
    "send": {"draft": "sending", "scheduled": "sending"},
    "start": {"scheduled": "sending"},
    "pause": {"scheduled": "paused", "sending": "paused"},
    "resume": {"paused": "sending"},
    "finish": {"sending": "sent"},
    "cancel": {"draft": "cancelled", "scheduled": "cancelled", "sending": "cancelled",
               "paused": "cancelled"},
}


def transition(status: Status, action: Action) -> Status:
    """The status after `action`; raises `CampaignStateError` where it is not allowed."""
    found = _RULES[action].get(status)
    if found is None:
        raise CampaignStateError(f"a {status} campaign cannot {action}")
    return found


def allowed(status: Status) -> frozenset[Action]:
    """The actions a campaign in `status` offers (for the console's buttons)."""
    return frozenset(a for a in ACTIONS if status in _RULES[a])


def delivers(status: Status) -> bool:
    """Only a sending campaign hands mail to the server."""
    return status == "sending"
