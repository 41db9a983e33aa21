"""The campaign state machine, as a hypothesis rule-based state machine against a model
written from the rules in its docstring."""

from __future__ import annotations

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from ehrlich.campaigns.errors import CampaignStateError
from ehrlich.campaigns.machine import ACTIONS, FINAL, STATUSES, Action, Status, allowed, transition


def expected(status: Status, action: Action) -> Status | None:  # noqa: PLR0911 - a rule a line
    """The rules, restated independently: None where the action is refused."""
    if status in FINAL:
        return None
    if action == "edit":
        return "draft" if status == "draft" else None
    if action == "schedule":
        return "scheduled" if status == "draft" else None
    if action == "send":
        return "sending" if status in ("draft", "scheduled") else None
    if action == "start":
        return "sending" if status == "scheduled" else None
    if action == "pause":
        return "paused" if status in ("scheduled", "sending") else None
    if action == "resume":
        return "sending" if status == "paused" else None
    if action == "finish":
        return "sent" if status == "sending" else None
    return "cancelled"  # cancel: anything not final


class Campaign(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.status: Status = "draft"
        self.left_draft = False

    @rule(action=st.sampled_from(ACTIONS))
    def act(self, action: Action) -> None:
        want = expected(self.status, action)
        if want is None:
            with pytest.raises(CampaignStateError):
                transition(self.status, action)
            return
        got = transition(self.status, action)
        assert got == want
        assert action in allowed(self.status)
        self.left_draft = self.left_draft or got != "draft"
        self.status = got

    @invariant()
    def final_states_offer_nothing(self) -> None:
        if self.status in FINAL:
            assert allowed(self.status) == frozenset()

    @invariant()
    def no_way_back_to_draft(self) -> None:
        assert not (self.left_draft and self.status == "draft")


TestCampaignMachine = Campaign.TestCase


@pytest.mark.parametrize("status", STATUSES)
def test_allowed_matches_transition(status: Status) -> None:
    for action in ACTIONS:
        ok = action in allowed(status)
        try:
            transition(status, action)
        except CampaignStateError:
            assert not ok
        else:
            assert ok
