"""Sending a campaign: resumable from its send table by any worker, any number of times.

`CampaignRunner.run` claims the campaign (one worker at a time: a lease,
renewed every batch, taken over at once from a process on the same host that
is gone), writes a send row for everyone in the audience when sending starts
(resumably, in subject id order), then goes through the rows still to send,
batch by batch:

- the batch is checked against the consent state as it is now (confirmed, not
  suppressed, not erased): whoever left since is `skipped`;
- the subjects service opens the addresses and names (audited per batch);
  each mail is rendered, addressed by the subjects service and handed to the
  bulk sender, whose ledger re-checks the audience just before the final dot.

The campaign's status is read every batch, so a pause or cancel stops it
within a batch. Exactly-once, and the one window that remains, are described
in `ehrlich.mail.bulk`.
"""

from __future__ import annotations

import os
import socket
import sys
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, insert, or_, select, update
from sqlalchemy.orm import Session

from ehrlich.campaigns.ledger import CampaignLedger, Ticket
from ehrlich.campaigns.links import link_maker, templates_of
from ehrlich.campaigns.machine import Status, transition
from ehrlich.campaigns.models import Campaign, CampaignSend
from ehrlich.campaigns.render import CampaignTemplates, MailContext
from ehrlich.campaigns.schemas import RunOutcome
from ehrlich.consent.ledger.actions import consent_still_holds
from ehrlich.consent.ledger.audience import still_in_audience, stream_audience_consents
from ehrlich.crypto import Keyring
from ehrlich.mail.builder import message_builder
from ehrlich.mail.bulk import BulkMessage, BulkSender
from ehrlich.mail.dkim import DkimSigner
from ehrlich.mail.fastbuild import FastBuilder
from ehrlich.mail.interfaces import Letter, OutgoingMail, SendCheck, Unsubscribe
from ehrlich.mail.maintenance import MaintenanceSwitch
from ehrlich.mail.pacing import Pacer
from ehrlich.mail.smtp import SmtpConfig
from ehrlich.settings import Settings
from ehrlich.storage.base import new_id, utcnow
from ehrlich.storage.database import Database
from ehrlich.subjects.service import SUBJECT, SubjectsService, recipients_query

BATCH = 200
SWITCH_INTERVAL = 0.0001  # seconds; CPython's default is 0.005
LEASE = timedelta(seconds=60)
_SENDS = cast(Table, CampaignSend.__table__)
_CAMPAIGNS = cast(Table, Campaign.__table__)


def _me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _gone(owner: str | None) -> bool:
    """Is the lease holder a process on this host that no longer runs?"""
    if not owner:
        return True
    host, _, rest = owner.partition(":")
    if host != socket.gethostname():
        return False
    try:
        os.kill(int(rest.partition(":")[0]), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError):
        return False
    return False


class _Addressed:
    """The `MailSender` the subjects service addresses one campaign mail to: it builds,
    signs and submits the message under the send row's Message-ID."""

    def __init__(self, runner: CampaignRunner, bulk: BulkSender, ticket: Ticket,
                 message_id: str) -> None:
        self._runner, self._bulk = runner, bulk
        self._ticket, self._message_id = ticket, message_id

    def send(self, mail: OutgoingMail, *, session: Session | None = None) -> None:
        """Submitted at once on the campaign's own connections: the send row, not a queued
        job, is this mail's record, so a caller's transaction (`session`) plays no part."""
        raw = self._runner.fast.build_bytes(mail, now=self._runner.clock(),
                                            message_id=self._message_id)
        if self._runner.signer is not None:
            raw = self._runner.signer.sign(raw)
        self._bulk.submit(BulkMessage(self._ticket, self._runner.builder.envelope_from,
                                      mail.to, raw))


class CampaignRunner:
    """Runs (or resumes) one campaign's sending in this process."""

    def __init__(self, settings: Settings, db: Database, keyring: Keyring,
                 subjects: SubjectsService, *,
                 clock: Callable[[], datetime] = utcnow, connections: int | None = None,
                 pacer: Pacer | None = None, batch_size: int = BATCH,
                 send_checks: Sequence[SendCheck] = ()) -> None:
        config = SmtpConfig.from_settings(settings)
        if config is None:
            from ehrlich.errors import ConfigurationError
            raise ConfigurationError("campaigns need SMTP: set EHRLICH_SMTP_HOST and "
                                     "EHRLICH_SMTP_FROM")
        self.settings, self.db, self.keyring, self.subjects = settings, db, keyring, subjects
        # The audience query before each final dot answers the consent domain's own check;
        # any other domain's runs per message, as for every queued mail.
        self.send_checks = tuple(c for c in send_checks if c is not consent_still_holds)
        self.config = config
        self.builder = message_builder(settings)
        self.fast = FastBuilder(self.builder)
        self.signer = DkimSigner.from_settings(settings)
        self.clock = clock
        self.connections = connections or settings.campaign_connections
        self.pacer = pacer or Pacer(rate=settings.campaign_rate,
                                    per_domain_rate=settings.campaign_domain_rate)
        self.batch_size = batch_size
        self.maintenance = MaintenanceSwitch(settings.effective_maintenance_file)
        self.owner = _me()

    # -- the claim -----------------------------------------------------------------

    def _claim(self, campaign_id: str) -> Campaign | None:
        now = self.clock()
        with self.db.write() as session:
            row = session.execute(select(Campaign).where(Campaign.id == campaign_id)
                                  .with_for_update()).scalar_one_or_none()
            if row is None or row.status != "sending":
                return None
            free = (row.lease_owner is None or row.lease_owner == self.owner
                    or row.lease_until is None or row.lease_until < now
                    or _gone(row.lease_owner))
            if not free:
                return None
            row.lease_owner, row.lease_until = self.owner, now + LEASE
            session.flush()
            session.expunge(row)
            return row

    def _renew(self, campaign_id: str) -> Status | None:
        """The campaign's status now, with the lease renewed; None if the lease was lost."""
        now = self.clock()
        with self.db.write() as session:
            done = session.connection().execute(
                update(_CAMPAIGNS).where(_CAMPAIGNS.c.id == campaign_id,
                                         _CAMPAIGNS.c.lease_owner == self.owner)
                .values(lease_until=now + LEASE).returning(_CAMPAIGNS.c.status)).first()
        return cast(Status, done[0]) if done else None

    def _release(self, campaign_id: str, *, finish: bool = False) -> Status | None:
        now = self.clock()
        with self.db.write() as session:
            row = session.execute(select(Campaign).where(Campaign.id == campaign_id)
                                  .with_for_update()).scalar_one()
            if row.lease_owner != self.owner:
                return None
            if finish and row.status == "sending":
                row.status = transition("sending", "finish")
                row.finished_at = now
            row.lease_owner, row.lease_until = None, None
            return cast(Status, row.status)

    # -- the audience ----------------------------------------------------------------

    def _write_audience(self, campaign: Campaign) -> None:
        """One send row per person in the audience, resumable in subject id order."""
        if campaign.audience_count is not None:
            return
        with self.db.read() as session:
            after = session.execute(select(CampaignSend.subject_id).where(
                CampaignSend.campaign_id == campaign.id).order_by(
                CampaignSend.subject_id.desc()).limit(1)).scalar_one_or_none() or ""
        domain = self.builder.domain
        for batch in stream_audience_consents(self.db, campaign.purpose, campaign.channel,
                                              after=after, batch_size=1000):
            now = self.clock()
            with self.db.write() as session:
                session.connection().execute(insert(_SENDS), [
                    {"campaign_id": campaign.id, "subject_id": sid, "state": "queued",
                     "message_id": f"<{new_id().replace('-', '')}@{domain}>",
                     "consent_event_id": event, "attempts": 0, "next_attempt_at": None,
                     "last_reply": None, "updated_at": now} for sid, event in batch])
        with self.db.write() as session:
            total = session.execute(select(CampaignSend.subject_id).where(
                CampaignSend.campaign_id == campaign.id)).all()
            session.connection().execute(update(_CAMPAIGNS).where(
                _CAMPAIGNS.c.id == campaign.id).values(audience_count=len(total)))

    def _next_batch(self, campaign_id: str, after: str) -> list[tuple[str, str, int]]:
        """(subject id, Message-ID, tries) of rows to send now, after `after`."""
        now = self.clock()
        with self.db.read() as session:
            rows = session.execute(
                select(CampaignSend.subject_id, CampaignSend.message_id, CampaignSend.attempts)
                .where(CampaignSend.campaign_id == campaign_id,
                       CampaignSend.subject_id > after,
                       or_(CampaignSend.state == "queued",
                           (CampaignSend.state == "deferred")
                           & (CampaignSend.next_attempt_at <= now)))
                .order_by(CampaignSend.subject_id).limit(self.batch_size)).all()
        return [(r[0], r[1], r[2]) for r in rows]

    def _skip(self, campaign_id: str, subject_ids: Sequence[str], reason: str) -> None:
        if not subject_ids:
            return
        now = self.clock()
        with self.db.write() as session:
            session.connection().execute(
                update(_SENDS).where(_SENDS.c.campaign_id == campaign_id,
                                     _SENDS.c.subject_id.in_(list(subject_ids)),
                                     _SENDS.c.state.in_(("queued", "deferred")))
                .values(state="skipped", last_reply=reason, updated_at=now))

    # -- sending -------------------------------------------------------------------------

    def _send_batch(self, campaign: Campaign, templates: CampaignTemplates, bulk: BulkSender,
                    batch: list[tuple[str, str, int]]) -> None:
        ids = [sid for sid, _, _ in batch]
        allowed = still_in_audience(self.db, campaign.purpose, campaign.channel, ids)
        self._skip(campaign.id, [sid for sid in ids if sid not in allowed],
                   "not in the audience at send time")
        with self.db.read() as session:
            rows = session.connection().execute(recipients_query().where(
                SUBJECT.id.in_(list(allowed)))).all()
        people = self.subjects.recipients(self.db, rows, actor="system:campaigns",
                                          purpose=f"campaign:{campaign.id}", now=self.clock())
        found = {p.subject_id: p for p in people}
        self._skip(campaign.id, [sid for sid in allowed if sid not in found], "no address")
        links = link_maker(self.settings, self.keyring, purpose=campaign.purpose,
                           channel=campaign.channel, now=self.clock())
        for sid, message_id, tries in batch:
            person = found.get(sid)
            if person is None:
                continue
            unsubscribe, preferences, mailto = links(sid)
            rendered = templates.render(MailContext(name=person.name or "",
                                                    unsubscribe_url=unsubscribe,
                                                    preferences_url=preferences))
            letter = Letter(subject=rendered.subject, text=rendered.text, html=rendered.html,
                            category="marketing", language=campaign.language,
                            unsubscribe=Unsubscribe(url=unsubscribe, mailto=mailto))
            ticket = Ticket(sid, allowed[sid], tries, unsubscribe)
            self.subjects.send_mail(_Addressed(self, bulk, ticket, message_id), person,
                                    letter)

    def run(self, campaign_id: str) -> RunOutcome | None:
        """Send what is left; None when another worker holds it or it is not sending."""
        campaign = self._claim(campaign_id)
        if campaign is None:
            return None
        ledger = CampaignLedger(self.db, campaign_id, purpose=campaign.purpose,
                                channel=campaign.channel, clock=self.clock,
                                retry_delay=self.settings.mail_retry_delay,
                                retries=self.settings.mail_retries, keyring=self.keyring,
                                send_checks=self.send_checks, connections=self.connections)
        finished = False
        try:
            self._write_audience(campaign)
            templates = templates_of(campaign)
            switch = sys.getswitchinterval()
            # The window between recording a message as handed over and writing its final
            # dot is mostly this thread waiting for the GIL: keep that wait short.
            sys.setswitchinterval(SWITCH_INTERVAL)
            bulk = BulkSender(self.config, ledger, connections=self.connections,
                              pacer=self.pacer)
            try:
                after = ""
                while not self.maintenance.is_on():
                    if self._renew(campaign_id) != "sending":
                        break
                    batch = self._next_batch(campaign_id, after)
                    if not batch:
                        finished = True
                        break
                    self._send_batch(campaign, templates, bulk, batch)
                    after = batch[-1][0]
            finally:
                bulk.close()
                sys.setswitchinterval(switch)
            waiting = self._waiting(campaign_id)
            status = self._release(campaign_id, finish=finished and waiting == 0)
        except BaseException:
            self._release(campaign_id)
            raise
        c = ledger.counts
        return RunOutcome(status=status or "sending", sent=c["sent"] + c["in-doubt"],
                          deferred=c["deferred"], bounced=c["bounced"], skipped=c["skipped"],
                          waiting=waiting)

    def _waiting(self, campaign_id: str) -> int:
        with self.db.read() as session:
            return len(session.execute(select(CampaignSend.subject_id).where(
                CampaignSend.campaign_id == campaign_id,
                CampaignSend.state.in_(("queued", "deferred")))).all())
