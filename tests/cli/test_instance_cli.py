"""`ehrlich init`, start-up checks, tokens, audit verify and key rotation, as a user runs them."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
from pathlib import Path

from sqlalchemy import update

from ehrlich.audit.models import AuditEntry
from ehrlich.domains import open_instance
from ehrlich.instance.service import init_instance
from ehrlich.settings import Settings, load_settings
from ehrlich.subjects.data_keys import count_by_kek_version
from ehrlich.subjects.schemas import SubjectInput
from tests.conftest import NOW, Cli
from tests.e2e.servers import running_servers


def _init(cli: Cli, tmp_path: Path) -> Path:
    r = cli("init", "--data-dir", "inst/data", "--key-file", "inst/keys/k.key")
    assert r.returncode == 0, r.stderr
    return tmp_path / "inst" / "data"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_init_creates_instance_and_refuses_to_overwrite(cli: Cli, tmp_path: Path) -> None:
    data = _init(cli, tmp_path)
    key = tmp_path / "inst" / "keys" / "k.key"
    assert (data / "ehrlich.toml").exists()
    assert (data / "ehrlich.db").exists()
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    before = key.read_bytes()
    again = cli("init", "--data-dir", "inst/data", "--key-file", "inst/keys/k.key")
    assert again.returncode == 3
    assert "refusing to overwrite" in again.stderr
    assert key.read_bytes() == before


def test_init_refuses_key_file_inside_data_dir(cli: Cli, tmp_path: Path) -> None:
    r = cli("init", "--data-dir", "d", "--key-file", "d/k.key")
    assert r.returncode == 3
    assert "outside the data directory" in r.stderr
    assert not (tmp_path / "d" / "k.key").exists()


def _db_digest(data: Path) -> str:
    return hashlib.sha256((data / "ehrlich.db").read_bytes()).hexdigest()


def test_serve_stops_before_any_write_with_wrong_or_missing_key(cli: Cli, tmp_path: Path) -> None:
    data = _init(cli, tmp_path)
    digest = _db_digest(data)
    other = cli("init", "--data-dir", "other/data", "--key-file", "other/k.key")
    assert other.returncode == 0
    port = str(_free_port())
    cases = {
        "other/k.key": "does not match this database",
        "missing.key": "is missing",
    }
    for key_file, message in cases.items():
        r = cli("--data-dir", "inst/data", "serve", "--port", port,
                env={"EHRLICH_KEY_FILE": str(tmp_path / key_file)}, timeout=30)
        assert r.returncode == 3, r.stdout + r.stderr
        assert message in r.stderr
        assert "EHRLICH_KEY_FILE" in r.stderr or "restore" in r.stderr
    os.chmod(tmp_path / "inst/keys/k.key", 0o644)
    r = cli("--data-dir", "inst/data", "serve", "--port", port, timeout=30)
    assert r.returncode == 3
    assert "chmod 600" in r.stderr
    assert _db_digest(data) == digest


def test_token_create_and_audit_verify_exit_codes(cli: Cli, tmp_path: Path) -> None:
    data = _init(cli, tmp_path)
    r = cli("--data-dir", "inst/data", "token", "create", "--name", "crm",
            "--scope", "subjects:write")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1].startswith("ehr_")
    bad = cli("--data-dir", "inst/data", "token", "create", "--scope", "everything")
    assert bad.returncode == 2
    assert "scope: unknown: everything; choose from subjects:read" in bad.stderr
    assert "recipient:ID" in bad.stderr
    assert "[" not in bad.stderr
    blank = cli("--data-dir", "inst/data", "token", "create", "--scope", " ")
    assert blank.returncode == 2
    assert "scope: choose at least one" in blank.stderr

    def verified() -> int:
        ok = cli("--data-dir", "inst/data", "audit", "verify")
        assert ok.returncode == 0, ok.stderr
        return int(ok.stdout.split("intact: ")[1].split()[0])

    before = verified()
    instance = open_instance(load_settings(data / "ehrlich.toml"))
    try:
        with instance.db.write() as session:
            sid = instance.subjects.create(session, SubjectInput(email="a@example.org"),
                                           actor="t", now=NOW).subject.id
            instance.subjects.get(session, sid, actor="t", now=NOW)
        assert verified() == before + 2
        with instance.db.write() as session:
            session.execute(update(AuditEntry).where(AuditEntry.seq == before + 2)
                            .values(actor="x"))
    finally:
        instance.close()
    broken = cli("--data-dir", "inst/data", "audit", "verify")
    assert broken.returncode == 1
    assert f"broken at entry {before + 2}" in broken.stderr


def test_key_rotation_rewraps_everything_and_reads_keep_working(cli: Cli, tmp_path: Path
                                                                ) -> None:
    data = _init(cli, tmp_path)
    settings = load_settings(data / "ehrlich.toml", key_rotation_batch=7)
    instance = open_instance(settings)
    try:
        with instance.db.write() as session:
            outcome = instance.subjects.create_many(
                session, [SubjectInput(email=f"p{i}@example.org", name=f"P {i}")
                          for i in range(30)], actor="t", now=NOW)
        assert outcome.created == 30
        r = cli("--data-dir", "inst/data", "keys", "rotate")
        assert r.returncode == 0, r.stderr
        assert "30 data keys re-wrapped" in r.stdout
        # this process loaded the key file before the rotation and still reads everything
        with instance.db.write() as session:
            found = instance.subjects.find(session, email="p29@example.org", actor="t", now=NOW)
            assert found[0].name == "P 29"
            assert count_by_kek_version(session) == {2: 30}
        status = cli("--data-dir", "inst/data", "keys", "status")
        assert "2" in status.stdout
        retire = cli("--data-dir", "inst/data", "keys", "retire", "1")
        assert retire.returncode == 0, retire.stderr
        with instance.db.write() as session:
            assert instance.subjects.find(session, email="p0@example.org", actor="t",
                                          now=NOW)[0].name == "P 0"
    finally:
        instance.close()
    assert cli("--data-dir", "inst/data", "audit", "verify").returncode == 0


def test_interrupted_rotation_resumes(tmp_path: Path, cli: Cli) -> None:
    data = _init(cli, tmp_path)
    settings = load_settings(data / "ehrlich.toml")
    instance = open_instance(settings)
    try:
        with instance.db.write() as session:
            instance.subjects.create_many(
                session, [SubjectInput(email=f"q{i}@example.org") for i in range(25)],
                actor="t", now=NOW)
    finally:
        instance.close()
    # kill the rotation after its first batch commits
    script = (
        "import os, sys\n"
        "from ehrlich.cli.main import run\n"
        "import ehrlich.subjects.data_keys as d\n"
        "orig = d.rewrap_data_keys\n"
        "def once(db, keyring, *, batch, progress=None):\n"
        "    def stop(n):\n"
        "        os._exit(9)\n"
        "    return orig(db, keyring, batch=batch, progress=stop)\n"
        "d.rewrap_data_keys = once\n"
        "sys.argv = ['ehrlich', '--data-dir', 'inst/data', 'keys', 'rotate']\n"
        "run()\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("EHRLICH_")}
    env["EHRLICH_KEY_ROTATION_BATCH"] = "10"
    killed = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert killed.returncode == 9, killed.stderr
    instance = open_instance(settings)
    try:
        with instance.db.read() as session:
            assert count_by_kek_version(session) == {1: 15, 2: 10}
    finally:
        instance.close()
    resumed = cli("--data-dir", "inst/data", "keys", "rotate", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "15 data keys re-wrapped" in resumed.stdout
    instance = open_instance(settings)
    try:
        with instance.db.write() as session:
            assert count_by_kek_version(session) == {2: 25}
            assert instance.subjects.find(session, email="q3@example.org", actor="t", now=NOW)
    finally:
        instance.close()


def test_audit_head_and_verify_with_an_anchor(cli: Cli, tmp_path: Path) -> None:
    _init(cli, tmp_path)
    head = cli("--data-dir", "inst/data", "audit", "head")
    assert head.returncode == 0, head.stderr
    anchor = head.stdout.strip()
    seq, digest = anchor.split(":")
    assert int(seq) >= 1
    assert len(bytes.fromhex(digest)) == 32
    ok = cli("--data-dir", "inst/data", "audit", "verify", "--anchor", anchor)
    assert ok.returncode == 0, ok.stderr
    wrong = cli("--data-dir", "inst/data", "audit", "verify", "--anchor",
                f"{seq}:{'0' * 64}")
    assert wrong.returncode == 1
    assert f"broken at entry {seq}" in wrong.stderr
    garbled = cli("--data-dir", "inst/data", "audit", "verify", "--anchor", "yesterday")
    assert garbled.returncode == 2
    assert "anchor" in garbled.stderr


def test_serve_says_when_mail_is_off_and_how_to_turn_it_on(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", key_file=tmp_path / "keys" / "k.key")
    config = init_instance(settings, now=NOW)
    with running_servers(config, 1):
        pass
    [log] = config.parent.glob("serve-*.log")
    banner = " ".join(log.read_text().split())
    assert "Mail: OFF, no SMTP server is configured, so nothing is sent" in banner
    assert "mail is off" not in banner.lower()  # said once, by the label
    assert "To turn it on: set EHRLICH_SMTP_HOST and EHRLICH_SMTP_FROM" in banner
