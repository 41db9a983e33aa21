"""A backup taken while the server keeps writing is one consistent state."""

from __future__ import annotations

import threading
from datetime import timedelta

from ehrlich.instance.service import Instance
from ehrlich.subjects.schemas import SubjectInput
from tests.backup.conftest import add_subjects
from tests.conftest import NOW


def test_snapshot_during_writes_matches_its_manifest(instance: Instance) -> None:
    add_subjects(instance, 20)
    stop = threading.Event()
    written: list[int] = []

    def keep_writing() -> None:
        n = 0
        while not stop.is_set():
            rows = [SubjectInput(email=f"busy{n}-{k}@example.org") for k in range(5)]
            with instance.db.write() as session:
                instance.subjects.create_many(session, rows, actor="writer", now=NOW)
            n += 1
            written.append(n)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        while len(written) < 3:  # the writer is demonstrably running
            stop.wait(0.01)
        sidecar = instance.backup.create(now=NOW)
    finally:
        stop.set()
        writer.join()
    counts = sidecar.manifest.row_counts
    assert counts["subjects"] == counts["data_keys"]  # never a subject without its key
    assert counts["subjects"] >= 20 + 5 * 3
    report = instance.backup.verify(sidecar.manifest.backup_id, now=NOW + timedelta(minutes=1))
    assert report.row_counts == counts
