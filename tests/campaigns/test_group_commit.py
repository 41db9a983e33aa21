"""Hand-overs from several connections share one commit: a group's leader waits (at most
`gather` seconds) for the other connections, and commits alone when they do not come."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from ehrlich.campaigns.ledger import CampaignLedger, Ticket, _HandOver
from ehrlich.campaigns.models import CampaignSend
from ehrlich.campaigns.service import CampaignsService
from ehrlich.campaigns.tasks import runner_for
from ehrlich.instance.service import Instance
from tests.campaigns.people import draft, people
from tests.conftest import NOW


def _ledger(instance: Instance, *, connections: int, gather: float
            ) -> tuple[CampaignLedger, list[str], list[int]]:
    """A sending campaign's ledger, its audience (send rows written) and the size of each
    group it commits."""
    ids = list(people(instance, connections))
    campaign_id = draft(instance)
    instance.service(CampaignsService).act(instance.db, campaign_id, "send", actor="test",
                                           now=NOW)
    runner = runner_for(instance)
    campaign = runner._claim(campaign_id)
    assert campaign is not None
    runner._write_audience(campaign)
    ledger = CampaignLedger(instance.db, campaign_id, purpose="newsletter", channel="email",
                            clock=lambda: NOW, retry_delay=10, retries=3,
                            connections=connections, gather=gather)
    groups: list[int] = []
    commit = ledger._commit_group

    def counted(group: list[_HandOver]) -> None:
        groups.append(len(group))
        commit(group)

    ledger._commit_group = counted  # type: ignore[method-assign]
    return ledger, ids, groups


def _states(instance: Instance) -> list[str]:
    with instance.db.read() as session:
        return list(session.execute(select(CampaignSend.state)).scalars())


def test_the_connections_hand_over_in_one_commit(instance: Instance) -> None:
    # The leader waits until all three are in (the long `gather` is never reached).
    ledger, ids, groups = _ledger(instance, connections=3, gather=60.0)
    wanted: list[bool] = []
    threads = [threading.Thread(target=lambda sid=sid: wanted.append(
        ledger.hand_over(Ticket(sid, None, 0), ()))) for sid in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert groups == [3]
    assert wanted == [True, True, True]
    assert _states(instance) == ["handed"] * 3


@pytest.mark.parametrize("connections", [1, 2])
def test_a_lone_hand_over_is_committed_without_the_others(instance: Instance,
                                                          connections: int) -> None:
    ledger, ids, groups = _ledger(instance, connections=connections, gather=0.05)
    assert ledger.hand_over(Ticket(ids[0], None, 0), ())
    assert groups == [1]
    assert sorted(_states(instance)) == ["handed", *["queued"] * (connections - 1)]
