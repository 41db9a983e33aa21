"""KEK rotation and retirement for an opened instance."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete

from ehrlich.crypto.keyfile import add_kek_version, retire_kek_version
from ehrlich.errors import ConfigurationError
from ehrlich.instance.models import InstanceMeta
from ehrlich.instance.service import KEY_CHECK_PREFIX, Instance, store_key_check
from ehrlich.subjects import data_keys


def add_kek(instance: Instance) -> int:
    """Add a KEK version to the key file, make it active and record its key check."""
    material = add_kek_version(instance.settings.key_file)
    provider = instance.keyring.provider
    reload = getattr(provider, "reload", None)
    if reload is not None:
        reload()
    store_key_check(instance.db, instance.keyring, material.active)
    return material.active


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
    """Remove a KEK version once no data key is wrapped by it."""
    with instance.db.read() as session:
        in_use = data_keys.count_by_kek_version(session).get(version, 0)
        in_use += instance.staff.users.sealed_by_kek_version(session).get(version, 0)
    if in_use:
        raise ConfigurationError(f"{in_use} data keys still use KEK version {version}; "
                                 "run `ehrlich keys rotate --resume` first")
    retire_kek_version(instance.settings.key_file, version)
    with instance.db.write() as session:
        session.execute(delete(InstanceMeta).where(
            InstanceMeta.key == f"{KEY_CHECK_PREFIX}{version}"))
