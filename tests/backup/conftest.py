"""Backup test helpers: subjects to back up and the two identities `init` wrote.

Backups of PostgreSQL need its client tools (pg_dump, pg_restore); without them the
PostgreSQL half skips (fails in CI)."""

from __future__ import annotations

import getpass
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from ehrlich.backup.keys import default_identity_path, recovery_identity_path
from ehrlich.backup.snapshot import pg_major, pg_tool
from ehrlich.domains import open_instance
from ehrlich.errors import ConfigurationError
from ehrlich.instance.service import Instance
from ehrlich.settings import Settings, config_file_for, load_settings
from ehrlich.subjects.schemas import SubjectInput
from tests.conftest import NOW, service_unavailable, system_program
from tests.instances import InstanceTemplates
from tests.postgres import PostgresServer


def add_subjects(instance: Instance, count: int, *, prefix: str = "person") -> list[str]:
    ids = []
    with instance.db.write() as session:
        for n in range(count):
            outcome = instance.subjects.create(
                session, SubjectInput(email=f"{prefix}{n}@example.org", name=f"Name {n}"),
                actor="test", now=NOW)
            ids.append(outcome.subject.id)
    return ids


def require_postgres_tools(instance: Instance) -> None:
    """Skip (fail in CI) unless pg_dump and pg_restore for the server's version are installed."""
    with instance.db.engine.connect() as conn:
        major = pg_major(conn)
    try:
        for tool in ("pg_dump", "pg_restore"):
            pg_tool(tool, major)
    except ConfigurationError as exc:
        service_unavailable("PostgreSQL backup", exc.message)


@pytest.fixture
def instance(settings: Settings, tmp_path: Path, instance_templates: InstanceTemplates
             ) -> Iterator[Instance]:
    """An instance opened from the configuration `init` wrote (with the backup recipients)."""
    instance_templates.install(settings)
    loaded = load_settings(config_file_for(settings.data_dir),
                           backup_destination=str(tmp_path / "backups"))
    opened = open_instance(loaded)
    try:
        if not opened.db.is_sqlite:
            require_postgres_tools(opened)
        yield opened
    finally:
        opened.close()


@pytest.fixture
def ops_identity(instance: Instance) -> Path:
    return default_identity_path(instance.settings.key_file)


@pytest.fixture
def recovery_identity(instance: Instance) -> Path:
    return recovery_identity_path(instance.settings.key_file)


@pytest.fixture
def empty_target(database_kind: str, tmp_path: Path, request: pytest.FixtureRequest
                 ) -> Iterator[str]:
    """A second, empty database of the same kind to restore into."""
    if database_kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'ehrlich.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.new_name("ehrlich_restore_")
    yield server.create(name)
    server.discard(name)


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
