"""A database URL as libpq reads it: for the PostgreSQL client tools and for connections
opened with psycopg directly (not through SQLAlchemy)."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from sqlalchemy.engine import make_url


def libpq_uri(url: str, *, with_password: bool) -> str:
    """`url` (an SQLAlchemy URL such as `postgresql+psycopg://…`) as a libpq URI that keeps
    its connection parameters (sslmode, sslrootcert, a socket directory as
    `?host=/run/postgresql`, options, …). Every part is percent-encoded: libpq decodes
    `%XX` only, so SQLAlchemy's own rendering (a space as `+`) would change a value such
    as `options=-c statement_timeout=5s`. Without `with_password`, the password is left
    out (hand it over in `PGPASSWORD`, never on a command line)."""
    u = make_url(url)
    user = quote(u.username or "", safe="")
    if with_password and u.password:
        user += ":" + quote(str(u.password), safe="")
    host = quote(u.host or "", safe="")
    if ":" in (u.host or ""):
        host = f"[{u.host}]"  # an IPv6 address, as libpq URIs write it
    port = f":{u.port}" if u.port else ""
    query = urlencode([(k, v) for k, values in u.query.items()
                       for v in ((values,) if isinstance(values, str) else values)],
                      quote_via=quote)
    return (f"postgresql://{user + '@' if user else ''}{host}{port}/"
            f"{quote(u.database or '', safe='')}{'?' + query if query else ''}")
