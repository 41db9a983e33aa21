"""Property tests of the consent state machine."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ehrlich.consent.ledger.machine import ACTIONS, NO_CHANGE, REFUSED, STATES, State, transition

actions = st.lists(st.sampled_from(ACTIONS), max_size=40)


def run(start: State, sequence: list[str]) -> list[tuple[State, str, State]]:
    """Apply actions, skipping refused ones; returns (before, action, after) of effective ones."""
    state, steps = start, []
    for action in sequence:
        outcome = transition(state, action)  # type: ignore[arg-type]
        if outcome in (NO_CHANGE, REFUSED):
            continue
        steps.append((state, action, outcome))
        state = outcome  # type: ignore[assignment]
    return steps


def test_every_state_and_action_has_a_rule() -> None:
    for state in STATES:
        for action in ACTIONS:
            assert transition(state, action) in (*STATES, NO_CHANGE, REFUSED)


@given(st.sampled_from(STATES), actions)
def test_active_only_through_confirmation_or_grant(start: State, sequence: list[str]) -> None:
    for before, action, after in run(start, sequence):
        if after == "active":
            assert action in ("confirmed", "granted")
        if action == "confirmed":
            assert before == "requested"


@given(st.sampled_from(STATES))
def test_withdrawal_is_always_allowed_idempotent_and_ends_activity(state: State) -> None:
    first = transition(state, "withdrawn")
    assert first != REFUSED
    settled = state if first == NO_CHANGE else first
    assert settled in ("withdrawn", "objected")
    assert transition(settled, "withdrawn") == NO_CHANGE
    assert transition(settled, "objected" if settled == "withdrawn" else "withdrawn") != REFUSED


@given(st.lists(st.sampled_from([a for a in ACTIONS if a != "requested"]), max_size=40))
def test_after_an_objection_nothing_but_the_persons_own_request_reactivates(
        sequence: list[str]) -> None:
    steps = run("objected", sequence)
    assert all(after != "active" for _, _, after in steps)
    assert transition("objected", "granted") == REFUSED
    assert transition(transition("objected", "requested"), "confirmed") == "active"  # type: ignore[arg-type]


@given(st.sampled_from(STATES), actions)
def test_replaying_any_action_right_after_itself_changes_nothing_except_requests(
        start: State, sequence: list[str]) -> None:
    for _before, action, after in run(start, sequence):
        again = transition(after, action)  # type: ignore[arg-type]
        if action == "requested":
            assert again == "requested"  # a resend: the mail goes out again
        else:
            assert again in (NO_CHANGE, REFUSED) or again == after
