"""Exactly once across crashes: a real worker process (`ehrlich campaign run`) is killed
with SIGKILL at random points while it sends, and started again, five times; then it
runs to the end. The sink counts Message-IDs: every consented person got exactly one
message, nobody else got any."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Sequence
from email import message_from_bytes, policy
from multiprocessing.process import BaseProcess

import pytest
from sqlalchemy import select

from ehrlich.campaigns.ledger import CampaignLedger, Ticket
from ehrlich.campaigns.models import CampaignSend
from ehrlich.campaigns.service import CampaignsService
from ehrlich.campaigns.tasks import run_campaign
from ehrlich.domains import open_instance
from ehrlich.instance.service import Instance
from ehrlich.mail.bulk import Result
from ehrlich.settings import Settings
from tests.campaigns.people import address, draft, people
from tests.conftest import NOW
from tests.mail.smtp_server import SmtpServer

N = 500
KILLS = 5
CONNECTIONS = 3  # the campaigns conftest's campaign_connections


def _in_doubt(instance: Instance, campaign_id: str, smtp: SmtpServer) -> int:
    """Messages recorded as handed over that the sink does not have (the window)."""
    at_sink = {str(message_from_bytes(r.data, policy=policy.default)["Message-ID"])
               for r in smtp.received}
    with instance.db.read() as session:
        handed = session.execute(select(CampaignSend.message_id).where(
            CampaignSend.campaign_id == campaign_id,
            CampaignSend.state.in_(("handed", "sent")))).scalars()
        return sum(1 for m in handed if m not in at_sink)


def _run(settings: Settings, campaign_id: str) -> None:
    """The worker: a process of its own (forked, so it starts in milliseconds on a busy
    machine), with an instance of its own, doing what the `campaigns.run` job does."""
    code = 1
    try:
        instance = open_instance(settings)
        try:
            outcome = run_campaign(instance, campaign_id)
            code = 0 if outcome is not None and outcome.status == "sent" else 3
        finally:
            instance.close()
    finally:
        os._exit(code)


def paced(settings: Settings, rate: float = 40.0) -> Settings:
    """A worker sending `rate` messages a second after a first burst of as many, so that
    on a quiet machine it is still sending when the test stops it (unpaced, one worker
    sends the whole campaign between two kills), and hand-overs come one at a time."""
    return settings.model_copy(update={"campaign_rate": rate})


def worker(settings: Settings, campaign_id: str) -> BaseProcess:
    proc = multiprocessing.get_context("fork").Process(target=_run,
                                                       args=(settings, campaign_id))
    proc.start()
    return proc


def wait_for_more(smtp: SmtpServer, than: int, proc: BaseProcess) -> None:
    deadline = time.monotonic() + 60  # a start-up on a busy machine, not a timing claim
    while len(smtp.received) <= than and proc.is_alive():
        assert time.monotonic() < deadline, "the worker sent nothing"
        time.sleep(0.01)


@pytest.mark.slow
def test_sigkill_at_random_points_and_restart_sends_each_message_once(
        instance: Instance, settings: Settings, smtp: SmtpServer) -> None:
    chance = random.Random()
    consented = {i for i in range(N) if i % 4 != 1}
    people(instance, N, consented=consented)
    campaign = draft(instance)
    instance.service(CampaignsService).act(instance.db, campaign, "send", actor="test",
                                           now=NOW)
    kills = 0
    in_doubt: list[int] = []
    for _ in range(KILLS):
        proc = worker(paced(settings), campaign)
        wait_for_more(smtp, len(smtp.received), proc)
        time.sleep(chance.uniform(0, 0.25))
        if proc.is_alive():
            os.kill(proc.pid, signal.SIGKILL)  # type: ignore[arg-type]
            kills += 1
        proc.join()
        in_doubt.append(_in_doubt(instance, campaign, smtp) - sum(in_doubt))
    proc = worker(paced(settings), campaign)
    proc.join(timeout=300)
    assert proc.exitcode == 0
    assert kills >= 3, "the worker finished before it could be killed"
    ids = Counter(str(message_from_bytes(r.data, policy=policy.default)["Message-ID"])
                  for r in smtp.received)
    print("handed over, not at the sink, after each kill:", in_doubt)
    assert max(ids.values()) == 1, [m for m, n in ids.items() if n > 1]  # never twice
    got = Counter(r.rcpt_tos[0] for r in smtp.received)
    assert set(got.values()) == {1}
    assert set(got) <= {address(i) for i in consented}  # nobody without consent
    # Everyone else exactly once, but for the documented window (docs/campaigns.md): a
    # message recorded as handed over whose final dot the kill stopped, at most one per
    # connection and kill (tests below place a kill on each side of it). On SQLite it was
    # not seen in 30 kills; on PostgreSQL it spans the commit's round trip.
    missing = {address(i) for i in consented} - set(got)
    assert len(missing) == sum(in_doubt) <= CONNECTIONS * kills, (missing, in_doubt)
    with instance.db.read() as session:
        states = Counter(session.execute(select(CampaignSend.state).where(
            CampaignSend.campaign_id == campaign)).scalars())
    assert set(states) <= {"sent", "handed"}
    assert sum(states.values()) == len(consented)


def _dying(settings: Settings, campaign_id: str, *, at: int, after_record: bool) -> None:
    """A worker that dies (exit without cleanup, as SIGKILL) at its `at`-th hand-over:
    just after recording it (its final dot not yet written) or just before."""
    calls = 0
    original = CampaignLedger.hand_over

    def hand_over(self: CampaignLedger, ticket: Ticket, settled: Sequence[Result]) -> bool:
        nonlocal calls
        calls += 1
        mine = calls  # other connections' hand-overs may count on while this one commits
        if mine == at and not after_record:
            os._exit(9)
        wanted = original(self, ticket, settled)
        if mine == at:
            os._exit(9)
        return wanted

    CampaignLedger.hand_over = hand_over  # type: ignore[method-assign]  # forked child only
    _run(settings, campaign_id)


@pytest.mark.parametrize("after_record", [False, True])
def test_death_on_either_side_of_the_record(instance: Instance, settings: Settings,
                                            smtp: SmtpServer, after_record: bool) -> None:
    ids = people(instance, 60)
    campaigns = instance.service(CampaignsService)
    campaign = draft(instance)
    campaigns.act(instance.db, campaign, "send", actor="test", now=NOW)
    proc = multiprocessing.get_context("fork").Process(
        target=_dying, args=(paced(settings, 20.0), campaign), kwargs={"at": 25,
                                                          "after_record": after_record})
    proc.start()
    proc.join()
    assert proc.exitcode == 9
    assert len(smtp.received) < 25
    done = worker(paced(settings), campaign)
    done.join()
    assert done.exitcode == 0
    got = Counter(r.rcpt_tos[0] for r in smtp.received)
    assert set(got.values()) == {1}  # never twice
    # In doubt: the killed worker's messages whose answer it had not yet recorded (a
    # `sent` rides on the connection's next hand-over), so at most two per connection.
    in_doubt = campaigns.report(instance.db, campaign).in_doubt
    if after_record:  # recorded, never accepted: the window, not sent again. Hand-overs
        # are committed in groups, so other connections' may share the commit: at most
        # one message per connection.
        assert len(ids) - CONNECTIONS <= len(got) <= len(ids) - 1
        assert 1 <= in_doubt <= 2 * CONNECTIONS
    else:  # not recorded: the server discarded it, the restart sent it once
        assert set(got) == {address(i) for i in ids.values()}
        assert in_doubt <= 2 * CONNECTIONS
