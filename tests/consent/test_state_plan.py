"""PostgreSQL reads and moves one person's consent state by the primary key, never by
`ix_consent_states_audience`, also on a table that grew without fresh statistics."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, text
from sqlalchemy.dialects import postgresql

from ehrlich.consent.ledger.service import _CURRENT, _MOVE_STATE, _SUBJECTS_AND_STATES
from ehrlich.instance.service import Instance

ROWS = 20_000


def _plan(conn: Any, statement: Any, params: dict[str, Any]) -> str:
    if isinstance(statement, Select):  # the expanding IN rendered with its values
        literal = statement.params(**params).compile(
            dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
        return "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {literal}"))
    compiled = statement.compile(dialect=postgresql.dialect())
    return "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {compiled}", params))


def test_one_persons_state_is_found_by_the_primary_key(instance: Instance) -> None:
    if instance.db.is_sqlite:
        return  # SQLite's planner takes the primary key here without help
    with instance.db.engine.connect() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))  # no FK checks
        conn.execute(text(
            "INSERT INTO consent_states (subject_id, purpose, channel, state, since, "
            "last_event_hash) SELECT gen_random_uuid()::text, 'newsletter', 'email', "
            "'active', now(), '\\x00'::bytea FROM generate_series(1, :n)"), {"n": ROWS})
        key = {"key_subject": "0190b7a2-0000-7000-8000-000000000001",
               "key_purpose": "newsletter", "key_channel": "email"}
        plans = [
            _plan(conn, _CURRENT, key),
            _plan(conn, _MOVE_STATE, {**key, "new_state": "withdrawn", "now": None,
                                      "notice_version": None, "event_id": None,
                                      "event_hash": b"\x00"}),
            _plan(conn, _SUBJECTS_AND_STATES, {"subject_ids": [key["key_subject"]]}),
        ]
        conn.rollback()
    for plan in plans:
        assert "ix_consent_states_audience" not in plan, plan
        assert "pk_consent_states" in plan, plan
