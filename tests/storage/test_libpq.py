"""A database URL handed to libpq directly (psycopg's own connections, the PostgreSQL
client tools) keeps its connection parameters, read back here by the server."""

from __future__ import annotations

import psycopg
from sqlalchemy import make_url

from ehrlich.storage.libpq import libpq_uri


def test_psycopg_connects_with_every_parameter_of_the_url(postgres_url: str) -> None:
    url = make_url(postgres_url).set(query={
        "options": "-c statement_timeout=4321", "application_name": "ehrlich revocations+1"})

    with psycopg.connect(libpq_uri(url.render_as_string(hide_password=False),
                                   with_password=True)) as conn:
        shown = [conn.execute(f"SHOW {name}").fetchone()
                 for name in ("statement_timeout", "application_name")]
        database = conn.execute("SELECT current_database()").fetchone()

    assert shown == [("4321ms",), ("ehrlich revocations+1",)]
    assert database == (url.database,)


def test_the_password_is_kept_only_when_asked_for() -> None:
    url = "postgresql+psycopg://shop:s%40cret%20pw@db.example:6543/ehrlich?sslmode=require"

    assert libpq_uri(url, with_password=True) == (
        "postgresql://shop:s%40cret%20pw@db.example:6543/ehrlich?sslmode=require")
    assert libpq_uri(url, with_password=False) == (
        "postgresql://shop@db.example:6543/ehrlich?sslmode=require")


def test_a_socket_directory_and_an_ipv6_address_are_written_as_libpq_reads_them() -> None:
    assert libpq_uri("postgresql+psycopg://ehrlich@/ehrlich?host=/run/postgresql",
                     with_password=False) == (
        "postgresql://ehrlich@/ehrlich?host=%2Frun%2Fpostgresql")
    assert libpq_uri("postgresql+psycopg://ehrlich@[::1]:5432/ehrlich",
                     with_password=False) == "postgresql://ehrlich@[::1]:5432/ehrlich"
