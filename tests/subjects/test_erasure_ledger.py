"""The erasure ledger's table: one chain from many processes, tamper detection, migration.

The ledger lives in a database of its own: a SQLite file by default, a PostgreSQL
database when scaled out. Both kinds run here, chosen with the instance's kind.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from ehrlich.crypto.digests import derive_key, hmac_sha256
from ehrlich.crypto.envelope import length_prefixed
from ehrlich.crypto.providers import open_keyring
from ehrlich.errors import ConfigurationError, IntegrityFailure
from ehrlich.instance.service import Instance
from ehrlich.posture.service import run_report
from ehrlich.settings import Settings
from ehrlich.subjects.ledger import ErasureLedger, ErasureRecord, open_ledger
from tests.conftest import NOW
from tests.postgres import PostgresServer

PROCESSES = 4
APPENDS = 40


@pytest.fixture
def ledger_url(database_kind: str, tmp_path: Path, request: pytest.FixtureRequest
               ) -> Iterator[str]:
    """A new, empty ledger database of the instance's kind."""
    if database_kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger' / 'ledger.sqlite3'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.new_name("ehrlich_ledger_")
    yield server.create(name)
    server.discard(name)


def _record(n: int, tag: str) -> ErasureRecord:
    return ErasureRecord(f"{tag}-{n:04d}", bytes([n % 256]) * 32, None,
                         NOW + timedelta(seconds=n))


def _append_many(settings_json: str, url: str, tag: str, count: int) -> None:
    """One process's appends, each in a transaction of its own (as erasures are)."""
    settings = Settings.model_validate_json(settings_json)
    keyring = open_keyring(settings)
    ledger = ErasureLedger(url, keyring)
    try:
        for n in range(count):
            ledger.append(_record(n, tag))
    finally:
        ledger.close()
        keyring.close()


def test_processes_appending_at_once_keep_one_chain(instance: Instance, ledger_url: str) -> None:
    spawn = multiprocessing.get_context("spawn")
    workers = [spawn.Process(target=_append_many, args=(
        instance.settings.model_dump_json(), ledger_url, f"p{i}", APPENDS))
        for i in range(PROCESSES)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
        assert worker.exitcode == 0
    ledger = ErasureLedger(ledger_url, instance.keyring)
    try:
        entries = list(ledger.entries())  # verifies every link
    finally:
        ledger.close()
    assert [e.seq for e in entries] == list(range(1, PROCESSES * APPENDS + 1))
    assert sorted(e.record.subject_id for e in entries) == sorted(
        f"p{i}-{n:04d}" for i in range(PROCESSES) for n in range(APPENDS))
    for i in range(PROCESSES):  # each process's own appends in its order
        mine = [e.record.subject_id for e in entries if e.record.subject_id.startswith(f"p{i}-")]
        assert mine == sorted(mine)


def _ledger_with(instance: Instance, url: str, count: int) -> ErasureLedger:
    ledger = ErasureLedger(url, instance.keyring)
    for n in range(count):
        ledger.append(_record(n, "t"))
    return ledger


@pytest.mark.parametrize(("change", "reason"), [
    ("UPDATE erasure_ledger SET entry = replace(entry, 't-0002', 't-0009') WHERE seq = 3",
     "entry 3 was altered"),
    ("DELETE FROM erasure_ledger WHERE seq = 2", "entry 2 was removed"),
    ("UPDATE erasure_ledger SET mac = prev WHERE seq = 5", "entry 5 was altered"),
])
def test_a_changed_row_breaks_the_chain_and_doctor_fails(
        instance: Instance, ledger_url: str, change: str, reason: str) -> None:
    ledger = _ledger_with(instance, ledger_url, 5)
    assert len(list(ledger.records())) == 5
    engine = create_engine(ledger_url)
    with engine.begin() as conn:
        conn.execute(text(change))
    engine.dispose()
    with pytest.raises(IntegrityFailure, match=reason):
        list(ledger.records())
    ledger.close()


def test_doctor_reports_the_ledger(instance: Instance) -> None:
    def finding() -> tuple[str, str]:
        report = run_report(instance, now=NOW)
        found = next(r for r in report.results if r.id == "subjects.erasure_ledger")
        return found.status, found.detail

    instance.ledger.append(_record(1, "d"))
    status, detail = finding()
    # On PostgreSQL the default ledger file would be one per host: set ledger_url.
    assert status == ("pass" if instance.settings.is_sqlite else "warn")
    assert "1 erasure verified" in detail
    engine = create_engine(instance.settings.effective_ledger_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE erasure_ledger SET entry = replace(entry, 'd-', 'x-')"))
    engine.dispose()
    status, detail = finding()
    assert status == "fail"
    assert "entry 1 was altered" in detail


def _legacy_file(instance: Instance, path: Path, records: list[ErasureRecord]) -> list[str]:
    """A ledger file as earlier versions wrote it; returns its MACs."""
    key = derive_key(instance.keyring.audit_key, b"ehrlich erasure ledger v1")
    prev, macs, lines = "0" * 64, [], []
    for r in records:
        entry = {"subject_id": r.subject_id, "email_index": r.email_index.hex()
                 if r.email_index else None, "phone_index": None,
                 "erased_at": r.erased_at.isoformat()}
        body = json.dumps(entry, sort_keys=True, separators=(",", ":"))
        mac = hmac_sha256(key, length_prefixed(prev.encode(), body.encode())).hex()
        lines.append(json.dumps({"entry": entry, "prev": prev, "mac": mac},
                                separators=(",", ":")))
        prev = mac
        macs.append(mac)
    path.write_text("\n".join(lines) + "\n")
    return macs


def test_a_file_ledger_moves_into_the_table_on_first_use(instance: Instance, ledger_url: str,
                                                          tmp_path: Path) -> None:
    old = tmp_path / "erasure-ledger.jsonl"
    records = [_record(n, "old") for n in range(3)]
    macs = _legacy_file(instance, old, records)
    ledger = ErasureLedger(ledger_url, instance.keyring, legacy_file=old)
    try:
        entries = list(ledger.entries())
        assert [e.record for e in entries] == records
        assert [e.mac for e in entries] == macs  # the same chain, link for link
        assert not old.exists()
        assert (tmp_path / "erasure-ledger.jsonl.migrated").read_text().count("\n") == 3
        ledger.append(_record(9, "new"))
    finally:
        ledger.close()
    again = ErasureLedger(ledger_url, instance.keyring, legacy_file=old)  # nothing to move
    try:
        assert [r.subject_id for r in again.records()] == \
            ["old-0000", "old-0001", "old-0002", "new-0009"]
    finally:
        again.close()


def test_a_damaged_file_ledger_is_not_migrated(instance: Instance, ledger_url: str,
                                               tmp_path: Path) -> None:
    old = tmp_path / "erasure-ledger.jsonl"
    _legacy_file(instance, old, [_record(n, "old") for n in range(2)])
    old.write_text(old.read_text().replace("old-0001", "old-0007"))
    ledger = ErasureLedger(ledger_url, instance.keyring, legacy_file=old)
    for _ in range(2):  # refused at every use, never passed over
        with pytest.raises(ConfigurationError, match="former erasure ledger"):
            ledger.append(_record(5, "new"))
    ledger.close()
    assert old.exists()


def test_the_ledger_may_not_live_in_the_instance_database(instance: Instance) -> None:
    inside = instance.settings.model_copy(update={
        "ledger_url": instance.settings.effective_database_url})
    with pytest.raises(ConfigurationError, match="database of its own"):
        open_ledger(inside, instance.keyring)
