"""KEK rotation and retirement for an opened instance, through the `KeyProvider`
protocol only, whichever provider holds the KEKs."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete

from ehrlich.errors import ConfigurationError
from ehrlich.instance.models import InstanceMeta
from ehrlich.instance.service import KEY_CHECK_PREFIX, Instance, store_key_check
from ehrlich.subjects import data_keys


def add_kek(instance: Instance) -> int:
    """Add a KEK version, make it active and record its key check."""
    provider = instance.keyring.provider
    version = provider.add_version()
    provider.activate(version)
    store_key_check(instance.db, instance.keyring, version)
    return version


def keys_to_rewrap(instance: Instance) -> int:
    """How many data keys are still wrapped by an older KEK."""
    with instance.db.read() as session:
        counts = data_keys.count_by_kek_version(session)
    active = instance.keyring.provider.active_version
    return sum(n for v, n in counts.items() if v != active)


def rewrap_all(instance: Instance, *, progress: Callable[[int], None] | None = None) -> int:
    """Re-wrap every data key and staff secret under the active KEK (resumable)."""
    done = data_keys.rewrap_data_keys(instance.db, instance.keyring,
                                      batch=instance.settings.key_rotation_batch,
                                      progress=progress)
    with instance.db.write() as session:
        instance.staff.users.reseal_secrets(session)  # staff TOTP secrets, a handful
    return done


def retire_kek(instance: Instance, version: int) -> None:
    """Destroy a KEK version once nothing is wrapped by it; its key check goes with it
    (in one transaction: if the provider refuses, the check stays)."""
    with instance.db.read() as session:
        in_use = data_keys.count_by_kek_version(session).get(version, 0)
        in_use += instance.staff.users.sealed_by_kek_version(session).get(version, 0)
    if in_use:
        raise ConfigurationError(f"{in_use} data keys still use KEK version {version}; "
                                 "run `ehrlich keys rotate --resume` first")
    with instance.db.write() as session:
        session.execute(delete(InstanceMeta).where(
            InstanceMeta.key == f"{KEY_CHECK_PREFIX}{version}"))
        instance.keyring.provider.retire(version)
