"""The domains, in order, and the one build of an instance from them.

Each domain's `install(registry)` says what it contributes (routers, console pages,
jobs, posture checks, erasure hooks, send-time checks, CLI groups). `build_instance`
then builds the services in dependency order, handing each what it needs, and returns
one complete, frozen `Instance`; each domain service registered with `add_service`
is built after the shared ones, in domain order, from a `Services` view of what came
before it. The web app, the CLI, the worker, a restore, the
benchmarks and the tests all get their services from here. A new domain adds its
folder and one line to `DOMAINS`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import MappingProxyType

from ehrlich.audit import install as audit
from ehrlich.audit.service import AuditLog
from ehrlich.auth import install as auth
from ehrlich.auth.api_tokens import ApiTokenCache
from ehrlich.auth.revocation import revocations_for
from ehrlich.auth.service import StaffService, staff_policies
from ehrlich.backup import install as backup
from ehrlich.backup.service import BackupService
from ehrlich.breach import install as breach
from ehrlich.campaigns import install as campaigns
from ehrlich.captcha import install as captcha
from ehrlich.consent import install as consent
from ehrlich.consent.ledger.renewal import ConsentRenewalMarker
from ehrlich.consent.signup.service import SignupService, build_signups
from ehrlich.crypto import Keyring
from ehrlich.crypto.providers import open_keyring
from ehrlich.imports import install as imports
from ehrlich.instance.service import Core, Instance, check_database
from ehrlich.jobs import build_queue
from ehrlich.mail import tasks as mail_tasks
from ehrlich.mail.interfaces import MailSender
from ehrlich.mail.service import build_sender
from ehrlich.mailroom import install as mailroom
from ehrlich.notices import install as notices
from ehrlich.notices.service import NoticesService
from ehrlich.posture import install as posture
from ehrlich.registry import Contributions, Registry, Services
from ehrlich.rights import install as rights
from ehrlich.settings import Settings
from ehrlich.sharing import install as sharing
from ehrlich.storage.database import Database
from ehrlich.subjects import install as subjects
from ehrlich.subjects.ledger import open_ledger
from ehrlich.subjects.service import SubjectsService

Install = Callable[[Registry], None]

# In order: routes are mounted, checks reported and jobs bound in this order.
DOMAINS: tuple[Install, ...] = (
    posture.install,
    audit.install,
    subjects.install,
    notices.install,
    consent.install,
    imports.install,
    campaigns.install,
    sharing.install,
    mailroom.install,
    backup.install,
    auth.install,
    captcha.install,
    rights.install,
    breach.install,
)


def collect(domains: Sequence[Install] = DOMAINS) -> Contributions:
    """What the domains contribute; needs no settings, database or keys."""
    registry = Registry()
    for install in domains:
        install(registry)
    return registry.freeze()


def build_core(settings: Settings, *, keyring: Keyring | None = None,
               domains: Sequence[Install] = DOMAINS) -> Core:
    """The services a restore needs; the full build starts from the same ones."""
    contributions = collect(domains)
    keyring = keyring or open_keyring(settings)
    audit_log = AuditLog(keyring)
    ledger = open_ledger(settings, keyring)
    people = SubjectsService(keyring, audit_log, ledger, phone_region=settings.phone_region,
                             erasure_hooks=contributions.erasure_hooks,
                             rectification_hooks=contributions.rectification_hooks)
    return Core(settings=settings, keyring=keyring, audit=audit_log, ledger=ledger,
                subjects=people, contributions=contributions)


def build_instance(settings: Settings, db: Database, keyring: Keyring, *,
                   domains: Sequence[Install] = DOMAINS) -> Instance:
    """Every service, in dependency order; the jobs are bound to the queue last."""
    core = build_core(settings, keyring=keyring, domains=domains)
    jobs = build_queue(db)
    notice_service = NoticesService(core.audit, ConsentRenewalMarker(core.audit))
    staff = StaffService(db, keyring, core.audit, core.subjects,
                         policies=staff_policies(settings), redis_url=settings.redis_url,
                         redis_prefix=settings.redis_prefix)
    signups = build_signups(settings, db, keyring, core.audit, core.subjects, notice_service,
                            staff.captcha)
    backups = BackupService(settings, db, core.subjects, core.ledger, core.audit)
    mail = build_sender(settings, jobs, keyring)
    built: dict[type[object], object] = {
        NoticesService: notice_service, StaffService: staff, SignupService: signups,
        BackupService: backups, MailSender: mail}
    for kind, factory in core.contributions.services:
        built[kind] = factory(Services(
            settings=settings, db=db, keyring=keyring, audit=core.audit, ledger=core.ledger,
            subjects=core.subjects, jobs=jobs, built=built))
    instance = Instance(
        settings=settings, db=db, keyring=keyring, audit=core.audit, ledger=core.ledger,
        subjects=core.subjects, jobs=jobs, backup=backups, notices=notice_service, staff=staff,
        mail=mail, signups=signups, api_tokens=ApiTokenCache(
            settings.api_token_cache_seconds, revocations=revocations_for(
                db.url, settings.redis_url, settings.redis_prefix)),
        contributions=core.contributions, services=MappingProxyType(dict(built)))
    mail_tasks.register(jobs, settings, keyring, db, core.contributions.send_checks)
    for bind in core.contributions.jobs:
        bind(instance)
    return instance


def open_instance(settings: Settings, *, check_schema: bool = True,
                  domains: Sequence[Install] = DOMAINS) -> Instance:
    """Open the configured instance: keys and database checked before anything is built."""
    keyring = open_keyring(settings)
    db = check_database(settings, keyring, check_schema=check_schema)  # closes it if refused
    return build_instance(settings, db, keyring, domains=domains)
