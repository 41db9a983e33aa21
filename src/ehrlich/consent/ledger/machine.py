"""The consent state machine: which action is allowed from which state.

Pure: no database, no clock. `transition(state, action)` says what happens:
a new state, `NO_CHANGE` (the action is harmless here and records nothing,
e.g. a replayed confirmation link or a second withdrawal), or `REFUSED`.

The rules that matter:
- consent is active only after `confirmed` (double opt-in, which needs a
  `requested` before it) or `granted` (direct, with its own evidence);
- `withdrawn` and `objected` are always allowed and idempotent, from any state;
- after an objection (GDPR Art. 21) nobody can grant on the person's behalf:
  only the person's own new request, confirmed, makes it active again.
"""

from __future__ import annotations

from typing import Final, Literal

State = Literal["none", "requested", "active", "withdrawn", "expired", "renewal-needed",
                "objected"]
Action = Literal["requested", "confirmed", "granted", "withdrawn", "expired", "renewal-needed",
                 "objected"]
Outcome = State | Literal["no-change", "refused"]

STATES: Final[tuple[State, ...]] = ("none", "requested", "active", "withdrawn", "expired",
                                    "renewal-needed", "objected")
ACTIONS: Final[tuple[Action, ...]] = ("requested", "confirmed", "granted", "withdrawn",
                                      "expired", "renewal-needed", "objected")
OPEN: Final[tuple[State, ...]] = ("active", "requested", "renewal-needed")
"""The states a withdrawal ends (the others are already off)."""
NO_CHANGE: Final = "no-change"
REFUSED: Final = "refused"

_RULES: Final[dict[Action, dict[State, Outcome]]] = {
    "requested": {"none": "requested", "requested": "requested", "active": NO_CHANGE,
                  "withdrawn": "requested", "expired": "requested",
                  "renewal-needed": "requested", "objected": "requested"},
    "confirmed": {"none": REFUSED, "requested": "active", "active": NO_CHANGE,
                  "withdrawn": REFUSED, "expired": REFUSED, "renewal-needed": REFUSED,
                  "objected": REFUSED},
    "granted": {"none": "active", "requested": "active", "active": NO_CHANGE,
                "withdrawn": "active", "expired": "active", "renewal-needed": "active",
                "objected": REFUSED},
    "withdrawn": {"none": "withdrawn", "requested": "withdrawn", "active": "withdrawn",
                  "withdrawn": NO_CHANGE, "expired": "withdrawn",
                  "renewal-needed": "withdrawn", "objected": NO_CHANGE},
    "expired": {"none": NO_CHANGE, "requested": "expired", "active": "expired",
                "withdrawn": NO_CHANGE, "expired": NO_CHANGE, "renewal-needed": "expired",
                "objected": NO_CHANGE},
    "renewal-needed": {"none": REFUSED, "requested": REFUSED, "active": "renewal-needed",
                       "withdrawn": REFUSED, "expired": REFUSED,
                       "renewal-needed": NO_CHANGE, "objected": REFUSED},
    "objected": {"none": "objected", "requested": "objected", "active": "objected",
                 "withdrawn": "objected", "expired": "objected",
                 "renewal-needed": "objected", "objected": NO_CHANGE},
}


def transition(state: State, action: Action) -> Outcome:
    return _RULES[action][state]


def is_active(state: State) -> bool:
    """Only an active consent lets anything be sent for its purpose."""
    return state == "active"
