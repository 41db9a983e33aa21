"""One build for every entry point, and a domain that installs itself without central edits."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from fastapi import APIRouter, Request
from fastapi.testclient import TestClient
from jinja2 import TemplateNotFound
from typer.testing import CliRunner

from ehrlich.admin.nav import NavEntry
from ehrlich.admin.templating import environment as console_environment
from ehrlich.app import create_app
from ehrlich.auth.roles import Permission, Role
from ehrlich.cli.context import CliState, instance_from
from ehrlich.cli.main import app as cli_app
from ehrlich.consent.install import install as consent_install
from ehrlich.domains import DOMAINS, build_core, collect, open_instance
from ehrlich.instance.service import Instance, init_instance
from ehrlich.jobs import crontab
from ehrlich.notices.service import NoticesService
from ehrlich.posture.schemas import Finding, PostureContext, Status, check
from ehrlich.registry import Registry, Services
from ehrlich.settings import Settings, config_file_for, load_settings
from ehrlich.web.templating import environment
from tests.conftest import NOW

FAKE_JOB = "garden.water"
FAKE_CHECK_TITLE = "The garden is watered"


@check("garden.watered", FAKE_CHECK_TITLE)
def _watered(ctx: PostureContext) -> Finding:
    return Finding(Status.PASS, "watered this morning")


class GardenService:
    """A domain's own service: built from the shared ones and another domain's service."""

    def __init__(self, notices: NoticesService, data_dir: Path) -> None:
        self.notices = notices
        self.data_dir = data_dir

    def colour(self) -> str:
        return "green"


def _build_garden(services: Services) -> GardenService:
    return GardenService(services.get(NoticesService), services.settings.data_dir)


_public = APIRouter()
_console = APIRouter(prefix="/admin/garden", include_in_schema=False)


@_public.get("/garden")
def _garden(request: Request) -> dict[str, str]:
    instance: Instance = request.app.state.instance
    return {"garden": instance.service(GardenService).colour()}


@_console.get("")
def _garden_console() -> dict[str, str]:
    return {"page": "garden"}


def _bind_jobs(instance: Instance) -> None:
    @instance.jobs.periodic(FAKE_JOB, crontab(minute="0"))
    def water() -> None:
        return None


def install_garden(registry: Registry) -> None:
    """A tiny domain, registered the way every real one is."""
    registry.add_router(_public)
    registry.add_console_page(_console, NavEntry("/admin/garden", {"en": "Garden", "de": "Garten"},
                                                 Permission.AUDIT_READ))
    registry.add_jobs(_bind_jobs)
    registry.add_check(_watered)
    registry.add_service(GardenService, _build_garden)


WITH_GARDEN = (*DOMAINS, install_garden)


@pytest.fixture
def configured(settings: Settings) -> Settings:
    """Settings as every entry point reads them: from the file `init` wrote."""
    init_instance(settings, now=NOW)
    return load_settings(config_file_for(settings.data_dir))


def _cli_instance(data_dir: Path, domains: tuple[object, ...] = DOMAINS) -> Instance:
    """What `ehrlich worker`, `serve` and every command open."""
    ctx = click.Context(click.Command("worker"),
                        obj=CliState(data_dir=data_dir, domains=domains))  # type: ignore[arg-type]
    return instance_from(ctx)  # type: ignore[arg-type]


def _shape(hooks: object, jobs: frozenset[str] | None, checks: object) -> tuple[object, ...]:
    return hooks, jobs, checks


@pytest.fixture
def entry_points(configured: Settings) -> Iterator[dict[str, tuple[object, ...]]]:
    app_instance = open_instance(configured)
    cli_instance = _cli_instance(configured.data_dir)
    try:
        with TestClient(create_app(app_instance)) as client:
            served = client.app.state.instance  # type: ignore[attr-defined]
            assert client.get("/healthz").status_code == 200
        core = build_core(configured)  # what `backup restore` replays erasures with
        yield {
            "app": _shape(served.subjects.erasure_hooks, served.jobs.task_names,
                          served.contributions.checks),
            "cli and worker": _shape(cli_instance.subjects.erasure_hooks,
                                     cli_instance.jobs.task_names,
                                     cli_instance.contributions.checks),
            # a restore runs no jobs: its hooks and checks must match
            "restore": _shape(core.subjects.erasure_hooks, None, core.contributions.checks),
        }
    finally:
        app_instance.close()
        cli_instance.close()


def test_every_entry_point_holds_the_same_hooks_jobs_and_checks(
        entry_points: dict[str, tuple[object, ...]]) -> None:
    app_shape = entry_points["app"]
    hooks, jobs, checks = app_shape
    assert hooks, "the consent domain's suppression hook is registered"
    assert {"mail.send", "consent.expire_unconfirmed", "auth.purge_expired_sessions"} <= jobs
    assert {c.id for c in checks} >= {"keys.file", "consent.unsubscribe_mailbox"}  # type: ignore[attr-defined]
    for name, shape in entry_points.items():
        for part, expected in zip(shape, app_shape, strict=True):
            assert part is None or part == expected, name


def test_restore_replays_with_the_hooks_the_app_erases_with(configured: Settings) -> None:
    instance = open_instance(configured)
    try:
        assert build_core(configured).subjects.erasure_hooks == instance.subjects.erasure_hooks
    finally:
        instance.close()


def test_a_new_domain_appears_in_routes_navigation_jobs_and_doctor(
        configured: Settings) -> None:
    instance = open_instance(configured, domains=WITH_GARDEN)
    try:
        app = create_app(instance)
        with TestClient(app) as client:
            assert client.get("/garden").json() == {"garden": "green"}
            assert client.get("/admin/garden").json() == {"page": "garden"}
        nav = [e.path for e in app.state.admin_nav.for_role(Role.OWNER)]
        assert nav[-1] == "/admin/garden"
        assert "/admin/consents" in nav
        # A page without a group of the console's own joins the unlabelled first group.
        groups = app.state.admin_nav.groups_for_role(Role.OWNER)
        assert groups[0].label == ""
        assert [e.path for e in groups[0].entries] == ["/admin", "/admin/account",
                                                       "/admin/garden"]
        assert FAKE_JOB in instance.jobs.task_names
        garden = instance.service(GardenService)
        assert garden.notices is instance.notices  # one build: the same services, shared
        assert garden.data_dir == configured.data_dir
    finally:
        instance.close()
    worker = _cli_instance(configured.data_dir, WITH_GARDEN)
    try:
        assert FAKE_JOB in worker.jobs.task_names
    finally:
        worker.close()
    result = CliRunner().invoke(cli_app, ["--data-dir", str(configured.data_dir), "doctor",
                                          "--format", "json"],
                                obj=CliState(domains=WITH_GARDEN))
    checks = {c["id"]: c for c in json.loads(result.output)["checks"]}
    assert checks["garden.watered"]["title"] == FAKE_CHECK_TITLE
    assert checks["garden.watered"]["status"] == "pass"
    # without the line in the list, the domain is nowhere
    plain = open_instance(configured)
    try:
        assert FAKE_JOB not in plain.jobs.task_names
        assert "garden.watered" not in {c.id for c in plain.contributions.checks}
        with pytest.raises(LookupError, match=r"GardenService.*registry\.add_service"):
            plain.service(GardenService)
    finally:
        plain.close()


def test_a_service_is_registered_once() -> None:
    registry = Registry()
    registry.add_service(GardenService, _build_garden)
    with pytest.raises(ValueError, match="already registered as GardenService"):
        registry.add_service(GardenService, _build_garden)


def test_a_domains_pages_come_from_the_template_folder_it_registers() -> None:
    """The consent pages live beside their code; only its install makes them findable."""
    templates = collect().templates
    assert "ehrlich.consent.web" in templates
    assert environment("en", templates).get_template("consent/signup.html")
    assert console_environment("de", templates).get_template("consent/admin_history.html")
    with pytest.raises(TemplateNotFound):
        environment("en", collect([d for d in DOMAINS if d is not consent_install]).templates
                    ).get_template("consent/signup.html")
