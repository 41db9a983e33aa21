"""A restore puts suppressions back: a person erased after the backup cannot be re-enrolled."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from ehrlich.backup.restore import restore_backup
from ehrlich.consent.errors import AddressSuppressed, ConsentRefused
from ehrlich.consent.ledger.suppression import is_suppressed
from ehrlich.domains import build_core, open_instance
from ehrlich.instance.service import Instance
from tests.backup.conftest import add_subjects
from tests.conftest import NOW
from tests.factories import new_subject, record


def test_erased_after_backup_is_suppressed_after_restore(
        instance: Instance, recovery_identity: Path, empty_target: str) -> None:
    _, gone_id = add_subjects(instance, 2)
    index = instance.subjects.email_index("person1@example.org")
    sidecar = instance.backup.create(now=NOW)
    instance.subjects.erase(instance.db, gone_id, actor="test", now=NOW + timedelta(hours=1))

    report = restore_backup(build_core(instance.settings), sidecar.manifest.backup_id,
                            identity_file=recovery_identity, target_url=empty_target,
                            force=False, now=NOW + timedelta(hours=2))
    assert report.erasures_replayed == 1
    restored = open_instance(instance.settings.model_copy(
        update={"database_url": empty_target}))
    try:
        with restored.db.read() as session:
            assert is_suppressed(session, index, "newsletter")
        # the same address, back through an import or the API, cannot be granted consent
        again = new_subject(restored, "Person1@example.org")
        with pytest.raises((AddressSuppressed, ConsentRefused)):
            record(restored, again, "granted")
    finally:
        restored.close()
