"""Signup with double opt-in: check against the published notice, record `requested`,
send the confirmation mail.

What the person saw must be what is published: the notice version (and hash,
when given) must be the current one and each consent text must equal the
published text in the chosen language, otherwise nothing is written. The
subject is created or found through `SubjectsService` (the only plaintext
path), which also addresses the mail: this module holds a `Recipient`, never the
address. Purposes already active are left alone; every answer is the same, so
the response never tells whether an address was known. The mail goes out
after the transaction commits, so a rolled-back signup sends nothing.

While SMTP is not set up no mail can go out, so signups are refused
(`SignupsClosed`) rather than answered with a promise of a mail. One address
gets at most `signup_mails_per_recipient` confirmation mails a day
(`RecipientLimit`); a signup past that records nothing and gets the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditLog
from ehrlich.captcha.service import CaptchaService
from ehrlich.consent.errors import SignupsClosed
from ehrlich.consent.ledger.evidence import gpc_signal
from ehrlich.consent.ledger.service import current_state, record_consent
from ehrlich.consent.schemas import ConsentInput, Evidence, SignupInput, SignupReceipt
from ehrlich.consent.signup.gate import RecipientLimit, SignupGate
from ehrlich.consent.signup.links import cancel_token, confirm_token
from ehrlich.consent.signup.offers import SIGNUP_CHANNEL, Offer, offer_map
from ehrlich.counters.stores import open_store
from ehrlich.crypto import Keyring
from ehrlich.errors import InvalidInput
from ehrlich.mail.interfaces import Letter, MailSender, Unsubscribe
from ehrlich.mail.smtp import SmtpConfig
from ehrlich.mail.templates import MailTemplates
from ehrlich.notices.service import NoticesService, PublishedNotice
from ehrlich.settings import Settings
from ehrlich.storage.database import Database
from ehrlich.subjects.schemas import SubjectInput
from ehrlich.subjects.service import Recipient, SubjectsService

ACTOR = "subject:signup"
SOURCE_PREFIX = "signup:"
TEMPLATE = "confirm_subscription"


@dataclass(frozen=True)
class PendingConfirmation:
    """A confirmation mail to send once the transaction that recorded its requests commits."""

    to: Recipient
    language: str
    offers: list[Offer]
    requests: dict[str, str]
    controller_name: str
    controller_contact: str


def checked_offers(published: PublishedNotice, data: SignupInput) -> list[Offer]:
    """The offers the input names, or `InvalidInput` naming the first wrong field."""
    if data.notice_version != published.info.number:
        raise InvalidInput.one("notice_version", f"version {data.notice_version} is not the "
                               f"published notice (current: {published.info.number})")
    if data.notice_hash is not None and data.notice_hash != published.info.sha256:
        raise InvalidInput.one("notice_hash", "is not the hash of the published notice")
    available = offer_map(published, data.language)
    chosen: list[Offer] = []
    for i, consent in enumerate(data.consents):
        offer = available.get(consent.purpose)
        if offer is None:
            raise InvalidInput.one(f"consents[{i}].purpose",
                                   f"{consent.purpose!r} is not a consent purpose of the "
                                   "published notice that can be signed up for by email")
        if offer.language != data.language.lower().split("-", 1)[0]:
            raise InvalidInput.one("language", f"the notice has no {data.language!r} text")
        if consent.text.strip() != offer.text.strip():
            raise InvalidInput.one(f"consents[{i}].text",
                                   "is not the published consent text for this purpose")
        if offer in chosen:
            raise InvalidInput.one(f"consents[{i}].purpose", "is given twice")
        chosen.append(offer)
    return chosen


class SignupService:
    def __init__(self, settings: Settings, keyring: Keyring, audit: AuditLog,
                 subjects: SubjectsService, notices: NoticesService, *,
                 gate: SignupGate | None = None,
                 recipients: RecipientLimit | None = None) -> None:
        self._settings = settings
        self._keyring = keyring
        self._audit = audit
        self._subjects = subjects
        self._notices = notices
        self._templates = MailTemplates()
        self.gate = gate
        """Bot defences of the public form (the API has its tokens instead)."""
        self.recipients = recipients

    @property
    def mail_on(self) -> bool:
        """Whether confirmation mails can go out at all (SMTP is set up)."""
        return SmtpConfig.from_settings(self._settings) is not None

    def published(self, db: Database) -> PublishedNotice:
        """The notice signups are checked against; raises `NoticeNotPublished`."""
        with db.read() as session:
            return self._notices.current(session)

    def sign_up(self, db: Database, mail: MailSender, data: SignupInput, *, method: str,
                evidence: Evidence, now: datetime) -> SignupReceipt:
        """Record `requested` per purpose and send one confirmation mail."""
        if not self.mail_on:
            raise SignupsClosed("signups are closed until mail is set up (EHRLICH_SMTP_HOST)")
        gpc = gpc_signal(evidence.sec_gpc)
        chosen = checked_offers(self.published(db), data)
        honoured = [o.purpose for o in chosen if gpc and o.third_party]
        if len(honoured) == len(chosen) or (self.recipients is not None and not (
                self.recipients.allow(self._subjects.email_index(data.email), now=now))):
            return SignupReceipt(gpc_honoured=honoured)
        with db.write() as session:
            published = self._notices.current(session)
            wanted = [o for o in checked_offers(published, data) if o.purpose not in honoured]
            pending = self._request(session, data, wanted, published, method=method,
                                    evidence=evidence, now=now)
            if pending.requests:  # queued with the request: both or neither
                self.send_confirmation(mail, pending, now=now, session=session)
        return SignupReceipt(gpc_honoured=honoured)

    def _request(self, session: Session, data: SignupInput, wanted: list[Offer],
                 published: PublishedNotice, *, method: str, evidence: Evidence,
                 now: datetime) -> PendingConfirmation:
        to = self._subjects.create_recipient(session, SubjectInput(
            email=data.email, name=data.name, source=f"{SOURCE_PREFIX}{method}"),
            actor=ACTOR, now=now)
        requests: dict[str, str] = {}
        for offer in wanted:
            if current_state(session, to.subject_id, offer.purpose, offer.channel) == "active":
                continue  # nothing to confirm; the answer stays the same
            outcome = record_consent(session, self._audit, ConsentInput(
                subject_id=to.subject_id, purpose=offer.purpose, channel=offer.channel,
                action="requested", method=method,
                notice_version=published.info.number,
                notice_hash=f"sha256:{published.info.sha256}", language=offer.language,
                text_shown=offer.text, form=data.form, evidence=evidence),
                actor=ACTOR, now=now)
            if outcome.event_id is not None:
                requests[offer.purpose] = outcome.event_id
        controller = published.notice.controller
        return PendingConfirmation(to=to, language=wanted[0].language, offers=wanted,
                                   requests=requests, controller_name=controller.name,
                                   controller_contact=controller.contact)

    def ask_again(self, session: Session, published: PublishedNotice, *, to: Recipient,
                  purpose: str, language: str, extra: dict[str, str],
                  actor: str, now: datetime) -> PendingConfirmation | None:
        """Re-permission for an imported contact without evidence: record `requested`
        with the published text (method `admin`, `extra` naming the import) and return
        the confirmation mail to send after commit; None when nothing is to confirm."""
        offer = offer_map(published, language).get(purpose)
        if offer is None:
            raise InvalidInput.one("purpose", f"{purpose!r} is not a consent purpose of the "
                                   "published notice that can be signed up for by email")
        if current_state(session, to.subject_id, offer.purpose, offer.channel) == "active":
            return None
        outcome = record_consent(session, self._audit, ConsentInput(
            subject_id=to.subject_id, purpose=offer.purpose, channel=offer.channel,
            action="requested", method="admin", notice_version=published.info.number,
            notice_hash=f"sha256:{published.info.sha256}", language=offer.language,
            text_shown=offer.text, extra=extra), actor=actor, now=now)
        if outcome.event_id is None:
            return None
        controller = published.notice.controller
        return PendingConfirmation(to=to, language=offer.language,
                                   offers=[offer], requests={offer.purpose: outcome.event_id},
                                   controller_name=controller.name,
                                   controller_contact=controller.contact)

    def send_confirmation(self, mail: MailSender, pending: PendingConfirmation, *,
                          now: datetime, session: Session | None = None) -> None:
        """The double opt-in mail with the confirm and one-click cancel links (queued in
        `session`'s transaction when given)."""
        base = self._settings.base_url.rstrip("/")
        days = self._settings.consent_confirm_days
        purposes = sorted(pending.requests)
        template_hash = self._templates.render(
            TEMPLATE, pending.language, purposes=[], confirm_url="", unsubscribe_url="",
            valid_days=days, controller_name="", controller_contact="").template_hash
        confirm = confirm_token(self._keyring, subject_id=pending.to.subject_id,
                                channel=SIGNUP_CHANNEL, requests=pending.requests,
                                template_hash=template_hash, now=now, days=days)
        cancel = cancel_token(self._keyring, subject_id=pending.to.subject_id,
                              channel=SIGNUP_CHANNEL, purposes=purposes, now=now)
        unsubscribe = Unsubscribe(url=f"{base}/cancel/{cancel}")
        # the pages behind the mail's links answer in the mail's language, whatever the
        # browser that opens them prefers (the header's one-click URL stays bare)
        in_language = "?" + urlencode({"lang": pending.language})
        rendered = self._templates.render(
            TEMPLATE, pending.language,
            purposes=[o.title for o in pending.offers if o.purpose in pending.requests],
            confirm_url=f"{base}/confirm/{confirm}{in_language}",
            unsubscribe_url=f"{unsubscribe.url}{in_language}",
            valid_days=days, controller_name=pending.controller_name,
            controller_contact=pending.controller_contact)
        # The subjects service addresses the mail: this domain never holds the address.
        self._subjects.send_mail(mail, pending.to, Letter(
            subject=rendered.subject, text=rendered.text, html=rendered.html,
            category="transactional", language=rendered.language, unsubscribe=unsubscribe),
            session=session)


def build_signups(settings: Settings, db: Database, keyring: Keyring, audit: AuditLog,
                  subjects: SubjectsService, notices: NoticesService,
                  captcha: CaptchaService) -> SignupService:
    store = open_store(db, redis_url=settings.redis_url, prefix=settings.redis_prefix)
    gate = SignupGate(store, captcha, key=keyring.token_key("signup-throttle"),
                      per_hour=settings.signup_per_hour,
                      captcha_after=settings.signup_captcha_after,
                      no_script_per_hour=settings.signup_no_script_per_hour)
    recipients = RecipientLimit(store, per_day=settings.signup_mails_per_recipient)
    return SignupService(settings, keyring, audit, subjects, notices, gate=gate,
                         recipients=recipients)
