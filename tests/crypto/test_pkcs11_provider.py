"""The PKCS#11 key provider against a real SoftHSM2 token.

SoftHSM2 reads its token directory once per process (at C_Initialize), so the
run gets one throwaway token in a temporary directory, initialised before the
library loads; each test keeps its KEKs apart under a label prefix of its own.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pkcs11
import pytest
from pkcs11 import Attribute, KeyType, ObjectClass
from pkcs11 import exceptions as px
from pydantic import SecretStr

from ehrlich.crypto import FieldContext, Keyring
from ehrlich.crypto import _primitives as p
from ehrlich.crypto.envelope import seal
from ehrlich.crypto.pkcs11_provider import Pkcs11KeyProvider
from ehrlich.domains import open_instance
from ehrlich.errors import ConfigurationError, IntegrityFailure
from ehrlich.instance.keys import add_kek, keys_to_rewrap, retire_kek, rewrap_all
from ehrlich.instance.service import init_instance
from ehrlich.settings import Settings, load_settings
from ehrlich.subjects.data_keys import count_by_kek_version
from ehrlich.subjects.schemas import SubjectInput
from tests.conftest import NOW, Cli, service_unavailable

TOKEN = "ehrlich-test"
PIN = "4711-user"
MODULES = ("/usr/lib/softhsm/libsofthsm2.so",
           "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so")


@dataclass(frozen=True)
class SoftHsm:
    module: Path
    conf: Path

    def provider(self, key_label: str, *, pin: str = PIN) -> Pkcs11KeyProvider:
        return Pkcs11KeyProvider(module=self.module, token_label=TOKEN, pin=pin,
                                 key_label=key_label)

    def labels(self) -> set[str]:
        """The token's secret key labels, read in a session of our own (call it when no
        provider is open: PKCS#11 keeps one login per process)."""
        session = pkcs11.lib(str(self.module)).get_token(token_label=TOKEN).open(
            user_pin=PIN)
        try:
            return {o[Attribute.LABEL] for o in
                    session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY})}
        finally:
            session.close()


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SoftHsm]:
    util = shutil.which("softhsm2-util")
    module = next((Path(m) for m in MODULES if Path(m).exists()), None)
    if util is None or module is None:
        service_unavailable("SoftHSM2", "not installed (apt-get install softhsm2)")
    assert util is not None
    assert module is not None
    root = tmp_path_factory.mktemp("softhsm")
    (root / "tokens").mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {root / 'tokens'}\n"
                    "objectstore.backend = file\nlog.level = ERROR\n")
    before = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)  # the CLI subprocesses inherit it
    subprocess.run([util, "--init-token", "--free", "--label", TOKEN, "--pin", PIN,
                    "--so-pin", "so-4711"], check=True, capture_output=True)
    pkcs11.lib(str(module)).reinitialize()  # in case the library was loaded already
    yield SoftHsm(module, conf)
    if before is None:
        del os.environ["SOFTHSM2_CONF"]
    else:
        os.environ["SOFTHSM2_CONF"] = before


@pytest.fixture
def key_label() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def provider(softhsm: SoftHsm, key_label: str) -> Iterator[Pkcs11KeyProvider]:
    opened = softhsm.provider(key_label)
    opened.activate(opened.add_version())
    yield opened
    opened.close()


def _keyring(provider: Pkcs11KeyProvider) -> Keyring:
    return Keyring(provider, index_key=p.random_key(), audit_key=p.random_key(),
                   token_key=p.random_key())


def _settings(tmp_path: Path, softhsm: SoftHsm, key_label: str, **more: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path / "data", "key_file": tmp_path / "keys" / "ehrlich.key",
        "base_url": "http://testserver", "key_provider": "pkcs11",
        "pkcs11_module": softhsm.module, "pkcs11_token_label": TOKEN,
        "pkcs11_key_label": key_label, "pkcs11_pin": PIN, "key_rotation_batch": 7}
    values.update(more)
    return Settings(**values)  # type: ignore[arg-type]


def test_data_keys_wrap_in_the_token_in_the_envelope_format(provider: Pkcs11KeyProvider
                                                            ) -> None:
    keyring = _keyring(provider)
    data_key = keyring.new_data_key()
    wrapped = keyring.wrap_data_key(data_key, subject_id="s-1")
    # version 1 · AES-256-GCM · KEK version 1 · 12-byte nonce · 32-byte key · 16-byte tag
    assert wrapped[:6] == b"\x01\x01\x00\x00\x00\x01"
    assert len(wrapped) == 6 + 12 + 32 + 16
    assert data_key not in wrapped
    assert keyring.unwrap_data_key(wrapped, subject_id="s-1") == data_key
    # the staff TOTP secrets take the same path with a context of their own
    context = FieldContext(table="staff_users", field="totp", record_id="u", subject_id="")
    secret = provider.wrap(b"JBSWY3DPEHPK3PXP", context=context)
    assert provider.unwrap(secret, context=context) == b"JBSWY3DPEHPK3PXP"


def test_batch_unwrap_across_versions_in_order(provider: Pkcs11KeyProvider) -> None:
    keyring = _keyring(provider)
    keys = {f"s-{i}": keyring.new_data_key() for i in range(12)}
    wrapped = {sid: keyring.wrap_data_key(k, subject_id=sid) for sid, k in keys.items()
               if int(sid[2:]) < 6}
    provider.activate(provider.add_version())
    wrapped |= {sid: keyring.wrap_data_key(k, subject_id=sid) for sid, k in keys.items()
                if sid not in wrapped}
    assert {w[5] for w in wrapped.values()} == {1, 2}
    items = sorted(wrapped.items(), reverse=True)
    assert provider.unwrap_data_keys(items) == [keys[sid] for sid, _ in items]
    # and the field-opening path the audience export uses
    fields = [(sid, w, seal(keys[sid], f"{sid}@example.org".encode(), key_version=1,
                            context=FieldContext("subjects", "email", sid, sid)))
              for sid, w in items]
    assert keyring.open_fields(fields, table="subjects", field="email") == [
        (sid, f"{sid}@example.org") for sid, _ in items]


def test_the_kek_never_leaves_the_token(provider: Pkcs11KeyProvider, key_label: str) -> None:
    session = provider._session  # the provider's own login; a second one is refused
    (kek,) = session.get_objects({Attribute.LABEL: f"{key_label}-1"})
    with pytest.raises(px.AttributeSensitive):
        kek[Attribute.VALUE]
    assert kek[Attribute.SENSITIVE]
    assert kek[Attribute.ALWAYS_SENSITIVE]
    assert not kek[Attribute.EXTRACTABLE]
    assert kek[Attribute.NEVER_EXTRACTABLE]
    assert kek[Attribute.LOCAL]  # generated by the token, not imported
    assert kek[Attribute.ID] == b"\x00\x00\x00\x01"
    # a KEK someone made extractable under the label is refused, not used
    copy = session.generate_key(KeyType.AES, 256, label=f"{key_label}-7", store=True,
                                template={Attribute.SENSITIVE: False,
                                          Attribute.EXTRACTABLE: True})
    try:
        with pytest.raises(ConfigurationError, match="can leave the token"):
            provider.reload()
    finally:
        copy.destroy()


def test_wrong_subject_altered_bytes_or_unknown_version_fail_closed(
        provider: Pkcs11KeyProvider) -> None:
    keyring = _keyring(provider)
    wrapped = keyring.wrap_data_key(b"k" * 32, subject_id="alice")
    with pytest.raises(IntegrityFailure):
        keyring.unwrap_data_key(wrapped, subject_id="bob")
    with pytest.raises(IntegrityFailure):
        provider.unwrap_data_keys([("alice", wrapped), ("bob", wrapped)])
    flipped = wrapped[:-1] + bytes([wrapped[-1] ^ 1])
    with pytest.raises(IntegrityFailure):
        keyring.unwrap_data_key(flipped, subject_id="alice")
    with pytest.raises(IntegrityFailure):
        keyring.unwrap_data_key(wrapped[:20], subject_id="alice")
    unknown = wrapped[:2] + b"\x00\x00\x00\x09" + wrapped[6:]
    with pytest.raises(ConfigurationError, match="KEK version 9 is not in the PKCS#11 token"):
        keyring.unwrap_data_key(unknown, subject_id="alice")


def test_only_the_active_version_encrypts_and_retire_destroys(
        provider: Pkcs11KeyProvider, softhsm: SoftHsm, key_label: str) -> None:
    context = FieldContext("t", "f", "r", "s")
    old = provider.wrap(b"x" * 32, context=context)
    staged = provider.add_version()
    assert provider.versions() == {1, 2}
    assert provider.active_version == 1  # a staged version does not wrap yet
    assert provider.wrap(b"x" * 32, context=context)[5] == 1
    before = softhsm.provider(key_label)  # another process's view, from before
    try:
        provider.activate(staged)
        assert before.active_version == 1
        # the token refuses version 1 for encryption now; the provider reloads and follows
        assert before.wrap(b"y" * 32, context=context)[5] == 2
        assert before.active_version == 2
        with pytest.raises(ConfigurationError, match="active and cannot be retired"):
            provider.retire(2)
        provider.retire(1)
        assert provider.versions() == {2}
        with pytest.raises(ConfigurationError, match="KEK version 1 is not in"):
            before.unwrap(old, context=context)
    finally:
        before.close()
        provider.close()
    labels = softhsm.labels()
    assert f"{key_label}-2" in labels
    assert f"{key_label}-1" not in labels


def test_rotation_of_an_instance_end_to_end(tmp_path: Path, softhsm: SoftHsm,
                                           key_label: str) -> None:
    settings = _settings(tmp_path, softhsm, key_label)
    init_instance(settings, now=NOW)
    assert "kek" not in (tmp_path / "keys" / "ehrlich.key").read_text()
    instance = open_instance(settings)
    reader = open_instance(settings)  # a server that keeps running through the rotation
    try:
        with instance.db.write() as session:
            outcome = instance.subjects.create_many(
                session, [SubjectInput(email=f"p{i}@example.org", name=f"P {i}")
                          for i in range(20)], actor="t", now=NOW)
        assert outcome.created == 20
        assert add_kek(instance) == 2
        assert keys_to_rewrap(instance) == 20
        assert rewrap_all(instance) == 20
        with instance.db.read() as session:
            assert count_by_kek_version(session) == {2: 20}
        with reader.db.write() as session:  # still reads, and wraps new keys under 2
            assert reader.subjects.find(session, email="p19@example.org", actor="t",
                                        now=NOW)[0].name == "P 19"
            reader.subjects.create_many(session, [SubjectInput(email="late@example.org")],
                                        actor="t", now=NOW)
        retire_kek(instance, 1)
        with instance.db.write() as session:
            assert count_by_kek_version(session) == {2: 21}
            assert instance.subjects.find(session, email="p0@example.org", actor="t",
                                          now=NOW)[0].name == "P 0"
    finally:
        reader.close()
        instance.close()
    labels = softhsm.labels()
    assert f"{key_label}-1" not in labels
    assert f"{key_label}-2" in labels
    reopened = open_instance(settings)  # the key checks left match the token
    try:
        with reopened.db.write() as session:
            assert reopened.subjects.find(session, email="late@example.org", actor="t",
                                          now=NOW)
    finally:
        reopened.close()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_wrong_pin_stops_start_up_before_any_write(tmp_path: Path, softhsm: SoftHsm,
                                                  key_label: str) -> None:
    settings = _settings(tmp_path, softhsm, key_label)
    init_instance(settings, now=NOW)
    digest = _digest(tmp_path / "data" / "ehrlich.db")
    wrong = settings.model_copy(update={"pkcs11_pin": SecretStr("0000")})
    with pytest.raises(ConfigurationError, match="refused the PIN") as refused:
        open_instance(wrong)
    assert "0000" not in str(refused.value)
    assert PIN not in repr(settings)
    # while this process is logged in, the token would not check a PIN again: we do
    instance = open_instance(settings)
    try:
        with pytest.raises(ConfigurationError, match="refused the PIN"):
            open_instance(wrong)
    finally:
        instance.close()
    assert _digest(tmp_path / "data" / "ehrlich.db") == digest


def test_missing_token_module_or_pin_is_a_configuration_error(
        tmp_path: Path, softhsm: SoftHsm, key_label: str) -> None:
    cases: list[tuple[dict[str, object], str]] = [
        ({"pkcs11_token_label": "no-such-token"}, "no PKCS#11 token labelled 'no-such-token'"),
        ({"pkcs11_module": tmp_path / "nope.so"}, "cannot be loaded"),
        ({"pkcs11_pin": None}, "EHRLICH_PKCS11_PIN"),
        ({"pkcs11_token_label": None}, "pkcs11_token_label"),
    ]
    for override, message in cases:
        settings = _settings(tmp_path, softhsm, key_label, **override)
        with pytest.raises(ConfigurationError, match=message):
            init_instance(settings, now=NOW)
        assert not (tmp_path / "keys").exists()
        assert not (tmp_path / "data").exists()
    pin_file = tmp_path / "pin"
    pin_file.write_text(PIN + "\n")
    pin_file.chmod(0o644)
    settings = _settings(tmp_path, softhsm, key_label, pkcs11_pin=None, pkcs11_pin_file=pin_file)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        init_instance(settings, now=NOW)
    pin_file.chmod(0o600)
    init_instance(settings, now=NOW)
    open_instance(settings).close()


def test_init_refuses_a_label_that_already_holds_keks(tmp_path: Path, softhsm: SoftHsm,
                                                      provider: Pkcs11KeyProvider,
                                                      key_label: str) -> None:
    settings = _settings(tmp_path, softhsm, key_label)
    with pytest.raises(ConfigurationError, match="already holds KEKs"):
        init_instance(settings, now=NOW)
    assert not (tmp_path / "keys").exists()


def test_the_cli_rotates_on_the_token(cli: Cli, tmp_path: Path, softhsm: SoftHsm,
                                      key_label: str) -> None:
    env = {"EHRLICH_KEY_PROVIDER": "pkcs11", "EHRLICH_PKCS11_MODULE": str(softhsm.module),
           "EHRLICH_PKCS11_TOKEN_LABEL": TOKEN, "EHRLICH_PKCS11_KEY_LABEL": key_label,
           "EHRLICH_PKCS11_PIN": PIN}
    r = cli("init", "--data-dir", "inst/data", "--key-file", "inst/keys/k.key", env=env)
    assert r.returncode == 0, r.stderr
    # the token settings are in the instance's configuration; the PIN is not
    toml = (tmp_path / "inst" / "data" / "ehrlich.toml").read_text()
    assert f'pkcs11_key_label = "{key_label}"' in toml
    assert PIN not in toml
    settings = load_settings(tmp_path / "inst" / "data" / "ehrlich.toml", pkcs11_pin=PIN)
    instance = open_instance(settings)
    try:
        with instance.db.write() as session:
            instance.subjects.create_many(
                session, [SubjectInput(email=f"q{i}@example.org") for i in range(5)],
                actor="t", now=NOW)
    finally:
        instance.close()
    pin_only = {"EHRLICH_PKCS11_PIN": PIN}
    wrong = cli("--data-dir", "inst/data", "keys", "rotate",
                env={"EHRLICH_PKCS11_PIN": "0000"})
    assert wrong.returncode == 3, wrong.stdout + wrong.stderr
    assert "refused the PIN" in wrong.stderr
    assert "0000" not in wrong.stderr
    rotated = cli("--data-dir", "inst/data", "keys", "rotate", env=pin_only)
    assert rotated.returncode == 0, rotated.stderr
    assert "5 data keys re-wrapped" in rotated.stdout
    retired = cli("--data-dir", "inst/data", "keys", "retire", "1", env=pin_only)
    assert retired.returncode == 0, retired.stderr
    assert f"removed from the PKCS#11 token '{TOKEN}'" in retired.stdout
    status = cli("--data-dir", "inst/data", "keys", "status", env=pin_only)
    assert status.returncode == 0, status.stderr
    instance = open_instance(settings)
    try:
        assert instance.keyring.provider.versions() == {2}
        with instance.db.write() as session:
            assert count_by_kek_version(session) == {2: 5}
            assert instance.subjects.find(session, email="q4@example.org", actor="t",
                                          now=NOW)
    finally:
        instance.close()
