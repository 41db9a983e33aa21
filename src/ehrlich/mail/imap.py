"""Reading a mailbox over IMAP with imaplib: implicit TLS, STARTTLS or plain.

Implicit TLS (port 993) is the default; STARTTLS and plain IMAP are used only
when configured, plain only for a server on the same host. Certificates are
always checked. Every failure, from a refused connection to an unknown folder,
is `MailboxUnavailable`, whose message never holds the password.
"""

from __future__ import annotations

import contextlib
import imaplib
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from pydantic import SecretStr

from ehrlich.errors import ConfigurationError
from ehrlich.mail.errors import MailboxUnavailable
from ehrlich.mail.interfaces import InboundMessage
from ehrlich.settings import Settings

ImapTls = Literal["ssl", "starttls", "none"]
MailboxName = Literal["unsubscribe", "bounce"]
DEFAULT_PORTS: dict[ImapTls, int] = {"ssl": 993, "starttls": 143, "none": 143}
FETCH_BYTES = 64 * 1024  # a request fits in far less; a huge message is read only this far
TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int
    username: str
    password: SecretStr
    folder: str = "INBOX"
    tls: ImapTls = "ssl"
    ca_file: Path | None = None
    done_folder: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings, mailbox: MailboxName = "unsubscribe"
                      ) -> ImapConfig | None:
        """The unsubscribe (or bounce) mailbox, or None while its `*_imap_host` is unset."""
        def get(name: str) -> Any:
            return getattr(settings, f"{mailbox}_imap_{name}")

        if not get("host"):
            return None
        env = f"EHRLICH_{mailbox.upper()}_IMAP"
        if not get("username") or get("password") is None:
            raise ConfigurationError(
                f"{env}_HOST is set but {env}_USERNAME or {env}_PASSWORD is not; set both to "
                "the mailbox's login")
        tls: ImapTls = get("tls")
        return cls(host=get("host"), port=get("port") or DEFAULT_PORTS[tls],
                   username=get("username"), password=get("password"), folder=get("folder"),
                   tls=tls, ca_file=get("ca_file"), done_folder=get("done_folder"))

    @classmethod
    def required(cls, settings: Settings, mailbox: MailboxName = "unsubscribe") -> ImapConfig:
        config = cls.from_settings(settings, mailbox)
        if config is None:
            env = f"EHRLICH_{mailbox.upper()}_IMAP"
            raise ConfigurationError(
                f"no {mailbox} mailbox is configured; set {env}_HOST, {env}_USERNAME and "
                f"{env}_PASSWORD")
        return config


def _quoted(name: str) -> str:
    """A folder name as an IMAP quoted string (imaplib sends arguments as given)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapMailbox:
    """One IMAP session on one folder; use it as a context manager."""

    def __init__(self, config: ImapConfig) -> None:
        self.config = config
        self.capabilities: set[str] = set()
        self._client: imaplib.IMAP4 | None = None

    def _connect(self) -> imaplib.IMAP4:
        c = self.config
        if c.tls == "ssl":
            return imaplib.IMAP4_SSL(c.host, c.port, ssl_context=self._tls_context(),
                                     timeout=TIMEOUT_SECONDS)
        client = imaplib.IMAP4(c.host, c.port, timeout=TIMEOUT_SECONDS)
        if c.tls == "starttls":
            client.starttls(ssl_context=self._tls_context())
        return client

    def _tls_context(self) -> ssl.SSLContext:
        cafile = str(self.config.ca_file) if self.config.ca_file else None
        return ssl.create_default_context(cafile=cafile)

    def _where(self) -> str:
        return f"the mailbox {self.config.username} at {self.config.host}:{self.config.port}"

    def _run(self, what: str, command: Any, *args: Any) -> list[Any]:
        """Run one imaplib command; anything but OK becomes `MailboxUnavailable`."""
        try:
            status, data = command(*args)
        except (imaplib.IMAP4.error, OSError) as exc:
            raise MailboxUnavailable(f"{self._where()}: {what} failed: {exc}") from exc
        if status != "OK":
            raise MailboxUnavailable(f"{self._where()}: {what} failed: {data!r}")
        return list(data)

    @property
    def client(self) -> imaplib.IMAP4:
        if self._client is None:
            raise MailboxUnavailable("the mailbox is not open; use it in a `with` block")
        return self._client

    def __enter__(self) -> ImapMailbox:
        c = self.config
        try:
            self._client = self._connect()
        except (imaplib.IMAP4.error, OSError) as exc:
            raise MailboxUnavailable(f"{self._where()} cannot be reached: {exc}") from exc
        try:
            self._run("login", self.client.login, c.username, c.password.get_secret_value())
            caps = self._run("CAPABILITY", self.client.capability)
            self.capabilities = {cap.upper() for cap in caps[0].decode().split()}
            self._run(f"opening the folder {c.folder!r}", self.client.select, _quoted(c.folder))
            if c.done_folder:
                self.client.create(_quoted(c.done_folder))  # NO when it exists: that is fine
        except Exception:
            self._logout()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._logout()

    def _logout(self) -> None:
        if self._client is not None:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                self._client.logout()  # fails only when the server already went away
            self._client = None

    def unread(self) -> Iterator[InboundMessage]:
        found = self._run("searching unread mail", self.client.uid, "SEARCH", None, "UNSEEN")
        for uid in (found[0] or b"").split():
            # PEEK: reading does not set \Seen; only `mark_handled` does.
            parts = self._run("fetching a message", self.client.uid, "FETCH", uid,
                              f"(BODY.PEEK[]<0.{FETCH_BYTES}>)")
            raw = next((p[1] for p in parts if isinstance(p, tuple)), None)
            if raw is not None:  # None: removed by someone else meanwhile
                yield InboundMessage(uid=uid.decode(), raw=raw)

    def mark_handled(self, uid: str) -> None:
        client, done = self.client, self.config.done_folder
        self._run("flagging a message seen", client.uid, "STORE", uid, "+FLAGS.SILENT",
                  r"(\Seen)")
        if done and "MOVE" in self.capabilities:
            self._run(f"moving a message to {done!r}", client.uid, "MOVE", uid, _quoted(done))
            return
        if done:
            self._run(f"copying a message to {done!r}", client.uid, "COPY", uid, _quoted(done))
        self._run("deleting a message", client.uid, "STORE", uid, "+FLAGS.SILENT",
                  r"(\Deleted)")
        if "UIDPLUS" in self.capabilities:
            self._run("expunging a message", client.uid, "EXPUNGE", uid)
        else:  # also removes other messages flagged deleted, as any mail client would
            self._run("expunging", client.expunge)
