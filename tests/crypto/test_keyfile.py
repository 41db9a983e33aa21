"""The key file: creation, permissions, rotation, and start-up checks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ehrlich.crypto import FieldContext, FileKeyProvider, Keyring
from ehrlich.crypto.keyfile import add_kek_version, create_key_file, read_key_file
from ehrlich.errors import ConfigurationError


def test_created_private_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "k.key"
    material = create_key_file(path)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert "keks" not in repr(material)
    assert material.index_key.hex() not in repr(material)
    with pytest.raises(ConfigurationError, match="already exists"):
        create_key_file(path)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_group_or_world_readable_key_file_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "k.key"
    create_key_file(path)
    os.chmod(path, mode)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        read_key_file(path)


def test_missing_key_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="EHRLICH_KEY_FILE"):
        read_key_file(tmp_path / "nope.key")


def test_damaged_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    create_key_file(path)
    path.write_text(path.read_text().replace('"active": 1', '"active": 7'))
    with pytest.raises(ConfigurationError, match="active KEK version 7"):
        read_key_file(path)


def test_rotation_keeps_old_versions_readable(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    create_key_file(path)
    old = Keyring.from_key_file(path)
    wrapped = old.wrap_data_key(b"k" * 32, subject_id="s")
    add_kek_version(path)
    new = Keyring.from_key_file(path)
    assert new.provider.active_version == 2
    assert new.unwrap_data_key(wrapped, subject_id="s") == b"k" * 32
    # a process that loaded the file before rotation picks up the new version on demand
    assert old.unwrap_data_key(new.wrap_data_key(b"j" * 32, subject_id="s"),
                               subject_id="s") == b"j" * 32


def test_file_provider_rotates_through_the_protocol(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    create_key_file(path)
    provider = FileKeyProvider(path)
    elsewhere = FileKeyProvider(path)  # another process on the same key file
    context = FieldContext("data_keys", "dek", "s", "s")
    old = provider.wrap(b"k" * 32, context=context)
    assert provider.add_version() == 2
    assert provider.versions() == {1, 2}
    assert provider.active_version == 1  # staged: it unwraps but does not wrap yet
    assert read_key_file(path).active == 1
    provider.activate(2)
    assert provider.wrap(b"k" * 32, context=context)[2:6] == b"\x00\x00\x00\x02"
    with pytest.raises(ConfigurationError, match="active and cannot be retired"):
        provider.retire(2)
    provider.retire(1)
    assert read_key_file(path).keks.keys() == {2}
    with pytest.raises(ConfigurationError, match="KEK version 1 is not in the key file"):
        provider.unwrap(old, context=context)
    assert elsewhere.active_version == 1
    elsewhere.reload()
    assert (elsewhere.active_version, elsewhere.versions()) == (2, frozenset({2}))


def test_key_file_without_keks_names_the_token_settings(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    material = create_key_file(path, keks=False)
    assert "kek" not in path.read_text()
    assert read_key_file(path, keks=False).index_key == material.index_key
    with pytest.raises(ConfigurationError, match='key_provider = "pkcs11"'):
        read_key_file(path)
