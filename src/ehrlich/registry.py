"""What the domains contribute, collected once: each domain's `install(registry)` adds to it.

A domain's `install.py` names its routers (public pages and API), its console pages
with their navigation entries, its cards on the console's overview, its jobs, posture
checks, erasure hooks, send-time checks, CLI command groups, the folder of its page
templates and its own service (`add_service(Interface, factory)`, read back as
`instance.service(Interface)`): a new domain never adds a field to `Instance`. The
fields `Instance` does have are the shared services every domain and a restore are
built from. Nothing here knows a domain by
name; `ehrlich.domains` lists them in order and turns the registry into one frozen
`Contributions`, which the one `Instance` (defined here, with the services it holds)
carries to the app, the CLI, the worker and a restore. A domain's command group opens
that instance with `command_instance(ctx)`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from importlib import import_module
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from ehrlich.instance.commands import ehrlich_command

# Types only: the CLI imports the registry, and a command never needs the web framework
# (a router named by its module is imported when the web app is built: `load_router`).
if TYPE_CHECKING:
    from pathlib import Path

    import typer
    from fastapi import APIRouter

    from ehrlich.admin.cards import OverviewCard
    from ehrlich.admin.nav import NavEntry
    from ehrlich.audit.service import AuditLog
    from ehrlich.auth.api_tokens import ApiTokenCache
    from ehrlich.auth.service import StaffService
    from ehrlich.backup.service import BackupService
    from ehrlich.consent.signup.service import SignupService
    from ehrlich.crypto import Keyring
    from ehrlich.jobs import JobQueue
    from ehrlich.mail.interfaces import MailSender, SendCheck
    from ehrlich.notices.service import NoticesService
    from ehrlich.posture.schemas import Check
    from ehrlich.settings import Settings
    from ehrlich.storage.database import Database
    from ehrlich.subjects.ledger import ErasureLedger
    from ehrlich.subjects.service import ErasureHook, RectificationHook, SubjectsService

S = TypeVar("S")


def load_router(ref: APIRouter | str) -> APIRouter:
    """The router `ref` names (`"package.module:attribute"`), or `ref` itself. A domain names
    its routers so that a command never imports them (nor the web framework)."""
    if not isinstance(ref, str):
        return ref
    module, _, attribute = ref.partition(":")
    if not (module and attribute):
        raise ValueError(f"a router is named as 'package.module:attribute', not {ref!r}")
    router: APIRouter = getattr(import_module(module), attribute)
    return router


@dataclass(frozen=True)
class Contributions:
    """Everything the domains registered, in domain order; never changes after the build."""

    routers: tuple[APIRouter | str, ...]
    """Public pages and API routes, as added (`load_router` turns a name into the router)."""
    console_routers: tuple[APIRouter | str, ...]
    navigation: tuple[NavEntry, ...]
    overview_cards: tuple[OverviewCard, ...]
    jobs: tuple[JobBinder, ...]
    checks: tuple[Check, ...]
    erasure_hooks: tuple[ErasureHook, ...]
    rectification_hooks: tuple[RectificationHook, ...]
    send_checks: tuple[SendCheck, ...]
    cli_groups: tuple[tuple[str, typer.Typer], ...]
    templates: tuple[str, ...]
    """Packages whose `templates` folder holds a domain's pages, after the shells' own."""
    services: tuple[tuple[type[Any], ServiceFactory], ...]
    """Each domain service's interface and how to build it, in domain order."""


@dataclass(frozen=True)
class Core:
    """The services that need no database or queue: what a restore replays erasures with."""

    settings: Settings
    keyring: Keyring
    audit: AuditLog
    ledger: ErasureLedger
    subjects: SubjectsService
    contributions: Contributions

    def close(self) -> None:
        self.ledger.close()
        self.keyring.close()


@dataclass(frozen=True)
class Instance:
    """A running instance's services, built once per process by `ehrlich.domains`."""

    settings: Settings
    db: Database
    keyring: Keyring
    audit: AuditLog
    ledger: ErasureLedger
    subjects: SubjectsService
    jobs: JobQueue
    backup: BackupService
    notices: NoticesService
    staff: StaffService
    mail: MailSender
    signups: SignupService
    api_tokens: ApiTokenCache
    contributions: Contributions
    services: Mapping[type[Any], object]
    """The domains' own services by interface (`registry.add_service`): read with `service`."""

    def service(self, kind: type[S]) -> S:
        """The one service registered as `kind`; a missing one is a wiring error."""
        return _lookup(self.services, kind)

    def close(self) -> None:
        self.jobs.close()
        self.ledger.close()
        self.db.dispose()
        self.keyring.close()


@dataclass(frozen=True)
class Services:
    """What a domain's service factory is handed: the shared services, and the domain
    services built before it (`get`), so a service names what it needs by interface."""

    settings: Settings
    db: Database
    keyring: Keyring
    audit: AuditLog
    ledger: ErasureLedger
    subjects: SubjectsService
    jobs: JobQueue
    built: Mapping[type[Any], object]

    def get(self, kind: type[S]) -> S:
        return _lookup(self.built, kind)


def _lookup(services: Mapping[type[Any], object], kind: type[S]) -> S:
    try:
        found = services[kind]
    except KeyError:
        raise LookupError(f"no service is registered as {kind.__qualname__}; a domain's "
                          "install() adds it with registry.add_service") from None
    return cast(S, found)


class CommandState(Protocol):
    """What the `ehrlich` command hands its subcommands (`ehrlich.cli.context.CliState`)."""

    config: Path | None

    def opened(self) -> AbstractContextManager[Instance]: ...


def command_instance(ctx: typer.Context) -> AbstractContextManager[Instance]:
    """For a domain's command group: the instance `ehrlich` was started for, closed after.
    (A domain cannot import the CLI shell, which sits above it.)"""
    state = cast(CommandState, ctx.find_root().obj)
    return state.opened()


def command_line(ctx: typer.Context, settings: Settings, *, absolute: bool = False) -> str:
    """The start of a command line that reaches `settings`' instance again, the program and
    its configuration named as this command was started (`instance.commands`): for a
    command's advice to run another."""
    state = ctx.find_root().obj
    return ehrlich_command(settings.data_dir, getattr(state, "config", None),
                           absolute=absolute)


# Builds a domain's service from the services before it.
ServiceFactory = Callable[[Services], object]


# Binds a domain's tasks (and periodic schedules) onto the instance's queue.
JobBinder = Callable[[Instance], None]


@dataclass
class Registry:
    """Filled by each domain's `install`; read once by `freeze`."""

    routers: list[APIRouter | str] = field(default_factory=list)
    console_routers: list[APIRouter | str] = field(default_factory=list)
    navigation: list[NavEntry] = field(default_factory=list)
    overview_cards: list[OverviewCard] = field(default_factory=list)
    jobs: list[JobBinder] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    erasure_hooks: list[ErasureHook] = field(default_factory=list)
    rectification_hooks: list[RectificationHook] = field(default_factory=list)
    send_checks: list[SendCheck] = field(default_factory=list)
    cli_groups: list[tuple[str, typer.Typer]] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    services: list[tuple[type[Any], ServiceFactory]] = field(default_factory=list)

    def add_service(self, kind: type[S], factory: Callable[[Services], S]) -> None:
        """The domain's service, looked up as `instance.service(kind)` (and by the factories
        of later domains as `services.get(kind)`); built once per instance, in domain order."""
        if any(k is kind for k, _ in self.services):
            raise ValueError(f"a service is already registered as {kind.__qualname__}")
        self.services.append((kind, factory))

    def add_router(self, router: APIRouter | str) -> None:
        """Public pages or API routes: best named as `"package.module:router"`, which the
        web app imports when it is built (a command then never loads it)."""
        self.routers.append(router)

    def add_console_page(self, router: APIRouter | str, nav: NavEntry | None = None) -> None:
        """Console routes under /admin (a router, or its `"package.module:router"` name as
        for `add_router`), with their navigation entry (if they have one)."""
        self.console_routers.append(router)
        if nav is not None:
            if any(e.path == nav.path for e in self.navigation):
                raise ValueError(f"a console page is already registered at {nav.path}")
            self.navigation.append(nav)

    def add_overview_card(self, card: OverviewCard) -> None:
        """A card on the console's overview, for roles with its permission."""
        if any(c.template == card.template for c in self.overview_cards):
            raise ValueError(f"an overview card with the template {card.template} is "
                             "already registered")
        self.overview_cards.append(card)

    def add_jobs(self, binder: JobBinder) -> None:
        """A function that registers the domain's tasks and periodic jobs on the queue."""
        self.jobs.append(binder)

    def add_check(self, check: Check) -> None:
        if any(c.id == check.id for c in self.checks):
            raise ValueError(f"a posture check named {check.id!r} is already registered")
        self.checks.append(check)

    def add_erasure_hook(self, hook: ErasureHook) -> None:
        """Run in the erasure's transaction, and again when a restore replays the ledger."""
        self.erasure_hooks.append(hook)

    def add_rectification_hook(self, hook: RectificationHook) -> None:
        """Run in a rectification's transaction, with the names of the fields changed."""
        self.rectification_hooks.append(hook)

    def add_send_check(self, check: SendCheck) -> None:
        """Asked just before a queued mail goes out; any False drops the mail."""
        self.send_checks.append(check)

    def add_cli_group(self, name: str, group: typer.Typer) -> None:
        if any(n == name for n, _ in self.cli_groups):
            raise ValueError(f"a command group named {name!r} is already registered")
        self.cli_groups.append((name, group))

    def add_templates(self, package: str) -> None:
        """A package with a `templates` folder of pages (named `<domain>/...` inside)."""
        if package in self.templates:
            raise ValueError(f"the templates of {package} are already registered")
        self.templates.append(package)

    def freeze(self) -> Contributions:
        return Contributions(
            routers=tuple(self.routers), console_routers=tuple(self.console_routers),
            navigation=tuple(self.navigation), overview_cards=tuple(self.overview_cards),
            jobs=tuple(self.jobs), checks=tuple(self.checks),
            erasure_hooks=tuple(self.erasure_hooks),
            rectification_hooks=tuple(self.rectification_hooks),
            send_checks=tuple(self.send_checks),
            cli_groups=tuple(self.cli_groups), templates=tuple(self.templates),
            services=tuple(self.services))
