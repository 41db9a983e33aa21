"""A real IMAP server on loopback: a throwaway Dovecot, run as an unprivileged user.

Its configuration, passwd-file, maildirs and logs live in a temporary directory
(under /tmp, so that the unprivileged user can reach it). It listens on two free
loopback ports: plain IMAP with STARTTLS, and implicit TLS, both with a
self-signed certificate for 127.0.0.1. One account, written to the passwd-file
before the start (dovecot may miss a later change within the same second); each
test takes a folder of its own.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.servers import free_port
from tests.mail.smtp_server import self_signed

IMAP_BINARY = Path("/usr/lib/dovecot/imap")  # from dovecot-imapd
UNPRIVILEGED = "nobody"

CONFIG = """\
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{dir}/smtp-cert.pem
ssl_key = <{dir}/smtp-key.pem
disable_plaintext_auth = no
auth_mechanisms = plain
# a test's wrong password is answered at once: no two-second delay per failed login, and
# no growing penalty for loopback, where every test connects from
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
default_login_user = {user}
default_internal_user = {user}
default_internal_group = {group}
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:{dir}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/passwd
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={dir}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {ssl_port}
  }}
}}
service anvil {{
  chroot =
}}
"""


@dataclass
class Account:
    username: str
    password: str


class DovecotServer:
    def __init__(self, binary: str) -> None:
        self.port, self.ssl_port = free_port(), free_port()
        root = os.geteuid() == 0
        owner = pwd.getpwnam(UNPRIVILEGED) if root else pwd.getpwuid(os.geteuid())
        self.directory = Path(tempfile.mkdtemp(prefix="ehrlich-dovecot-"))
        self.cert, _ = self_signed(self.directory)
        group = owner.pw_gid
        self.account = Account("unsubscribe@shop.example", uuid.uuid4().hex)
        (self.directory / "passwd").write_text(
            f"{self.account.username}:{{PLAIN}}{self.account.password}\n")
        (self.directory / "dovecot.conf").write_text(CONFIG.format(
            dir=self.directory, user=owner.pw_name, group=grp.getgrgid(group).gr_name,
            port=self.port,
            ssl_port=self.ssl_port))
        for path in [self.directory, *self.directory.iterdir()]:
            os.chown(path, owner.pw_uid, group)
        self.process = subprocess.Popen(
            [binary, "-F", "-c", str(self.directory / "dovecot.conf")],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            user=owner.pw_uid if root else None, group=group if root else None,
            extra_groups=[] if root else None)
        self._wait_until_listening()

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                _, err = self.process.communicate()
                reason = f"{err.decode()} {self.log()}"
                self.stop()
                raise RuntimeError(f"dovecot stopped at start: {reason}")
            try:
                with socket.create_connection(("127.0.0.1", self.ssl_port), timeout=1), \
                        socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dovecot did not listen within 20 s: {self.log()}")

    def log(self) -> str:
        path = self.directory / "dovecot.log"
        return path.read_text() if path.exists() else ""

    def client(self) -> imaplib.IMAP4:
        """A plain session for the test's own reads and writes."""
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        try:
            client.login(self.account.username, self.account.password)
        except imaplib.IMAP4.error:
            client.shutdown()
            raise
        return client

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr is not None:
            self.process.stderr.close()
        shutil.rmtree(self.directory, ignore_errors=True)
