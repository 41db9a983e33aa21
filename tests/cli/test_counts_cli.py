"""`ehrlich counts check` finds counts that went wrong; `ehrlich counts rebuild` recounts."""

from __future__ import annotations

from pathlib import Path

from ehrlich.consent import counts
from ehrlich.domains import open_instance
from ehrlich.settings import load_settings
from ehrlich.subjects.schemas import SubjectInput
from tests.conftest import NOW, Cli
from tests.factories import record


def test_check_names_wrong_counts_and_rebuild_repairs_them(cli: Cli, tmp_path: Path) -> None:
    assert cli("init", "--data-dir", "inst/data", "--key-file", "inst/keys/k.key"
               ).returncode == 0
    data = ["--data-dir", "inst/data"]
    instance = open_instance(load_settings(None, data_dir=tmp_path / "inst" / "data"))
    try:
        with instance.db.write() as session:
            made = instance.subjects.create(session, SubjectInput(email="ada@example.org"),
                                            actor="test", now=NOW)
        record(instance, made.subject.id, "granted")
    finally:
        instance.close()
    checked = cli(*data, "counts", "check")
    assert checked.returncode == 0, checked.stderr
    assert "match a recount" in checked.stdout

    instance = open_instance(load_settings(None, data_dir=tmp_path / "inst" / "data"))
    try:
        with instance.db.write() as session:  # as if rows were written around the services
            session.execute(counts.ACTIVE.delete())
    finally:
        instance.close()
    wrong = cli(*data, "counts", "check")
    assert wrong.returncode == 1
    assert "active consents per purpose and channel" in wrong.stderr
    assert "contacts per state" not in wrong.stderr

    rebuilt = cli(*data, "counts", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert cli(*data, "counts", "check").returncode == 0
