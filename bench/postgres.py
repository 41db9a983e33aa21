"""The PostgreSQL database a benchmark was given, emptied between rounds."""

from __future__ import annotations

from sqlalchemy import create_engine, text


def reset_schema(url: str) -> None:
    """Drop everything in the database's public schema: each round starts empty."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
