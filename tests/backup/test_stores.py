"""Destinations against real servers: OpenSSH's sshd for SFTP, moto's S3 server over HTTP."""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import boto3
import pytest

from ehrlich.backup.interfaces import BackupStore
from ehrlich.backup.stores import open_store
from ehrlich.instance.service import Instance
from ehrlich.settings import Settings
from tests import conftest as shared
from tests.backup.conftest import add_subjects
from tests.conftest import NOW, system_program


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'ehrlich.db'}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """A real OpenSSH server on a loopback port; yields (url, client key, known_hosts)."""
    sshd_binary = system_program("sshd", "openssh-server")
    keygen = system_program("ssh-keygen", "openssh-client")
    ssh = tmp_path / "ssh"
    ssh.mkdir()
    for name in ("host_key", "client_key"):
        subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(ssh / name)],
                       check=True)
    (ssh / "authorized_keys").write_text((ssh / "client_key.pub").read_text())
    port = _free_port()
    (ssh / "sshd_config").write_text(
        f"ListenAddress 127.0.0.1\nHostKey {ssh / 'host_key'}\n"
        f"AuthorizedKeysFile {ssh / 'authorized_keys'}\nPidFile {ssh / 'sshd.pid'}\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        "StrictModes no\nPermitRootLogin prohibit-password\nSubsystem sftp internal-sftp\n")
    if os.geteuid() == 0:  # run as root, sshd wants its privilege-separation directory
        Path("/run/sshd").mkdir(exist_ok=True)
    log = ssh / "sshd.log"
    with log.open("wb") as log_file:
        server = subprocess.Popen([sshd_binary, "-D", "-e", "-f",
                                   str(ssh / "sshd_config"), "-p", str(port)], stderr=log_file)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, log.read_text()
                time.sleep(0.05)
        host_key = (ssh / "host_key.pub").read_text().split()
        (ssh / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
        url = f"sftp://{getpass.getuser()}@127.0.0.1:{port}{tmp_path / 'remote' / 'backups'}"
        yield url, ssh / "client_key", ssh / "known_hosts"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def s3_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's S3 server in a thread, spoken to over real HTTP on a loopback port."""
    from moto.server import ThreadedMotoServer

    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client("s3", endpoint_url=endpoint)
    bucket = f"ehrlich-{uuid.uuid4().hex[:12]}"  # moto keeps state per process
    client.create_bucket(Bucket=bucket)
    client.close()
    yield f"s3://{bucket}/site-a?endpoint={endpoint}&region=us-east-1"
    server.stop()


def _round_trip(instance: Instance, settings: Settings, store: BackupStore) -> None:
    backup = instance.backup
    backup.settings = settings
    add_subjects(instance, 3)
    first = backup.create(now=NOW)
    second = backup.create(now=NOW + timedelta(days=40))
    names = store.names()
    assert {first.archive, second.archive} <= set(names)
    assert all(not n.startswith(".partial") for n in names)
    assert store.size(first.archive) == first.archive_size
    report = backup.verify(second.manifest.backup_id, now=NOW + timedelta(days=40))
    assert report.row_counts["subjects"] == 3
    assert [r.verified for r in backup.list_backups()] == ["never", "ok"]
    # 40 days later, with one daily and no weekly/monthly kept, only the newest stays.
    backup.settings = settings.model_copy(update={"backup_keep": (1, 0, 0)})
    assert backup.prune(now=NOW + timedelta(days=40)) == [first.manifest.backup_id]
    assert first.archive not in store.names()


@pytest.mark.parametrize("in_ci", [False, True])
def test_without_openssh_the_sftp_tests_skip_outside_ci(
        in_ci: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        request: pytest.FixtureRequest) -> None:
    """A machine without OpenSSH skips them, naming the package; CI fails them instead."""
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH with nothing installed
    monkeypatch.setattr(shared, "SYSTEM_DIRS", ())
    monkeypatch.setattr(shared, "REQUIRE_SERVICES", in_ci)
    outcome = pytest.fail.Exception if in_ci else pytest.skip.Exception
    with pytest.raises(outcome, match=r"sshd is not available: .*openssh-server"):
        request.getfixturevalue("sshd")


def test_sftp_destination(instance: Instance, sshd: tuple[str, Path, Path]) -> None:
    url, key, known_hosts = sshd
    settings = instance.settings.model_copy(update={
        "backup_destination": url, "backup_ssh_key": key, "backup_ssh_known_hosts": known_hosts})
    store = open_store(settings)
    try:
        _round_trip(instance, settings, store)
    finally:
        store.close()


def test_sftp_refuses_unknown_host_key(instance: Instance, sshd: tuple[str, Path, Path],
                                       tmp_path: Path) -> None:
    from ehrlich.errors import ConfigurationError

    url, key, _ = sshd
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    store = open_store(instance.settings.model_copy(update={
        "backup_destination": url, "backup_ssh_key": key, "backup_ssh_known_hosts": empty}))
    with pytest.raises(ConfigurationError, match="cannot reach"):
        store.names()


def test_s3_destination(instance: Instance, s3_url: str) -> None:
    settings = instance.settings.model_copy(update={"backup_destination": s3_url})
    store = open_store(settings)
    try:
        _round_trip(instance, settings, store)
    finally:
        store.close()


def test_s3_interrupted_upload_leaves_no_object(instance: Instance, s3_url: str) -> None:
    store = open_store(instance.settings.model_copy(update={"backup_destination": s3_url}))
    def interrupted() -> None:
        with store.writer("x.tar.zst.age") as out:
            out.write(b"half an archive")
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        interrupted()
    assert store.names() == []
    store.close()
