"""A recycled PostgreSQL copy is the template again, or it is not handed out at all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from ehrlich.domains import open_instance
from ehrlich.settings import Settings
from ehrlich.subjects.schemas import SubjectInput
from tests.conftest import NOW
from tests.instances import InstanceTemplate, InstanceTemplates
from tests.postgres import PostgresServer, TemplateContents


@pytest.fixture
def instance_template(instance_templates: InstanceTemplates,
                      postgres_server: PostgresServer) -> InstanceTemplate:
    return instance_templates.template("postgresql")


@pytest.fixture
def template(instance_template: InstanceTemplate) -> str:
    assert instance_template.postgres_database
    return instance_template.postgres_database


@pytest.fixture
def server(postgres_admin_url: str, template: str) -> Iterator[PostgresServer]:
    """A server object of the test's own, so no other test's copies are in its pool."""
    own = PostgresServer(postgres_admin_url)
    own.made_template(template)
    yield own
    own.close()


def _oid(server: PostgresServer, name: str) -> int | None:
    with psycopg.connect(server.conninfo(name)) as conn:
        row = conn.execute("SELECT oid FROM pg_database WHERE datname = current_database()"
                           ).fetchone()
    return row[0] if row else None


def test_a_used_copy_comes_back_as_the_template_was(
        server: PostgresServer, template: str, instance_template: InstanceTemplate,
        tmp_path: Path) -> None:
    first = server.new_name()
    settings = Settings(data_dir=tmp_path / "data", key_file=tmp_path / "keys" / "k.key",
                        database_url=server.url(first))
    instance_template.install(settings, postgres=server)
    used = _oid(server, first)
    instance = open_instance(settings)
    try:
        with instance.db.write() as session:
            for n in range(30):
                instance.subjects.create(session, SubjectInput(email=f"p{n}@example.org"),
                                         actor="test", now=NOW)
    finally:
        instance.close()
    with psycopg.connect(server.conninfo(first)) as conn:  # as a backup verification would
        conn.execute("SELECT nextval('backup_verifications_id_seq')")
    assert TemplateContents.read(server.conninfo(first)) != TemplateContents.read(
        server.conninfo(template))
    server.discard(first)
    server.settle()

    second = server.new_name()
    server.copy_template(template, second)
    assert _oid(server, second) == used  # the same database, renamed
    assert TemplateContents.read(server.conninfo(second)) == TemplateContents.read(
        server.conninfo(template))


def test_a_copy_of_another_shape_is_dropped_not_handed_out(
        server: PostgresServer, template: str) -> None:
    first = server.new_name()
    server.copy_template(template, first)
    changed = _oid(server, first)
    with psycopg.connect(server.conninfo(first), autocommit=True) as conn:
        conn.execute("ALTER TABLE subjects ADD COLUMN added_by_a_test text")
    server.discard(first)
    server.settle()

    second = server.new_name()
    server.copy_template(template, second)
    assert _oid(server, second) != changed
    with psycopg.connect(server.conninfo("postgres")) as conn:
        assert conn.execute("SELECT count(*) FROM pg_database WHERE oid = %s",
                            (changed,)).fetchone() == (0,)


def test_a_session_left_open_is_ended_before_the_copy_is_handed_on(
        server: PostgresServer, template: str) -> None:
    first = server.new_name()
    server.copy_template(template, first)
    used = _oid(server, first)
    left_open = psycopg.connect(server.conninfo(first), autocommit=True)
    server.discard(first)
    server.settle()

    second = server.new_name()
    server.copy_template(template, second)
    assert _oid(server, second) == used  # recycled all the same
    with pytest.raises(psycopg.OperationalError):
        left_open.execute("SELECT 1")
    left_open.close()


def test_close_leaves_no_copy_behind(postgres_admin_url: str, template: str) -> None:
    own = PostgresServer(postgres_admin_url)
    own.made_template(template)
    kept, let_go = own.new_name(), own.new_name()
    for name in (kept, let_go):
        own.copy_template(template, name)
    made = [_oid(own, kept), _oid(own, let_go)]  # let_go's is recycled under another name
    own.discard(let_go)
    own.settle()
    admin = own.conninfo("postgres")
    own.close()

    with psycopg.connect(admin) as conn:
        assert conn.execute("SELECT count(*) FROM pg_database WHERE oid = ANY(%s)",
                            (made,)).fetchone() == (0,)
