"""pg_dump and pg_restore reach the database as the server's own connections do: the
database URL's connection parameters (sslmode, a socket directory, options, ...) go to
them as a libpq URI, read here by libpq itself (psql), with the password only in the
environment."""

from __future__ import annotations

import subprocess

from sqlalchemy import make_url

from ehrlich.backup.snapshot import pg_client_target
from tests.conftest import system_program


def test_the_urls_connection_parameters_reach_the_client_tools(postgres_url: str) -> None:
    psql = system_program("psql", "postgresql-client")
    url = make_url(postgres_url).set(query={
        "options": "-c statement_timeout=4321", "application_name": "ehrlich backup+1"})
    env, conninfo = pg_client_target(url.render_as_string(hide_password=False))

    shown = subprocess.run(
        [psql, f"--dbname={conninfo}", "--no-psqlrc", "--tuples-only", "--no-align",
         "--command", "SHOW statement_timeout", "--command", "SHOW application_name",
         "--command", "SELECT current_database()"],
        env=env, capture_output=True, text=True, check=True, timeout=30).stdout.split()

    assert shown == ["4321ms", "ehrlich", "backup+1", url.database]


def test_the_password_stays_out_of_the_arguments() -> None:
    env, conninfo = pg_client_target(
        "postgresql+psycopg://shop:s%40cret%20pw@db.example:6543/ehrlich?sslmode=verify-full"
        "&sslrootcert=/etc/ehrlich/ca.pem")

    assert conninfo == ("postgresql://shop@db.example:6543/ehrlich?sslmode=verify-full"
                        "&sslrootcert=%2Fetc%2Fehrlich%2Fca.pem")
    assert env["PGPASSWORD"] == "s@cret pw"
