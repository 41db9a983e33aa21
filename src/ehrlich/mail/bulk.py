"""Bulk SMTP: several connections, paced, each transaction recorded around its final dot.

Exactly once across crashes rests on one ordering per message, on one
connection (`BulkConnection.transact`):

1. MAIL FROM, RCPT TO, DATA (in one write when the server offers PIPELINING,
   RFC 2920), and the whole message except the final `.`;
2. the `Ledger` commits the message as *handed over* (and may refuse: the
   consent was withdrawn a moment ago; then the connection is dropped without
   the dot, and the server discards the message);
3. the final `.` is written and the server's answer read;
4. the answer is committed (`sent`, `deferred` or `bounced`); a `sent` is
   committed with the next message's step 2, so each message costs one commit
   (or less: the ledger may commit several connections' step 2 together).

A worker killed before step 2 committed leaves the message *queued*: the
server never saw a final dot (the connection closes with the process), so a
restart sends it again, once. A worker killed after step 2 leaves it
*handed*: a restart never sends it again. The one window that cannot be
closed is between the commit of step 2 and the write of the dot (the
server has not accepted the message but it is recorded as handed over): a
kill exactly there loses that one message for that campaign. The server's
acceptance itself (between steps 3 and 4) is covered, because it is recorded
before it can happen. Each connection has at most one message in that
window, so a crash leaves at most one message per connection in doubt, and
none is ever sent twice.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import re
import smtplib
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ehrlich.errors import where_it_failed
from ehrlich.mail.pacing import Pacer
from ehrlich.mail.smtp import NO_SMTPUTF8, SmtpConfig, SmtpTransport, smtputf8_options

Outcome = Literal["sent", "deferred", "bounced", "skipped", "in-doubt"]
log = logging.getLogger("ehrlich.mail")
_LEADING_DOT = re.compile(rb"(?m)^\.")


@dataclass(frozen=True)
class BulkMessage:
    ticket: Any
    """The caller's reference for the message (its send row); handed back to the ledger."""
    mail_from: str
    to: str
    message: bytes

    @property
    def domain(self) -> str:
        return self.to.rsplit("@", 1)[-1].lower()


@dataclass(frozen=True)
class Result:
    ticket: Any
    outcome: Outcome
    reply: str = ""


class Ledger(Protocol):
    """Where the caller records each message's state; every call commits."""

    def hand_over(self, ticket: Any, settled: Sequence[Result]) -> bool:
        """Record `ticket` as handed over, with the earlier results; False: do not send."""
        ...

    def settle(self, results: Sequence[Result]) -> None:
        """Record final answers (and deferrals)."""
        ...


def _outcome(code: int) -> Outcome:
    return "bounced" if 500 <= code < 600 else "deferred"


_PLAIN_PATH = re.compile(r"[^\s<>()\[\]\\,;:\"@]+@[A-Za-z0-9.-]+")


def _path(address: str) -> str:
    """`<address>` for MAIL FROM and RCPT TO; a plain address as it is, anything else
    through smtplib's quoting (which parses it, a cost per command)."""
    if _PLAIN_PATH.fullmatch(address):
        return f"<{address}>"
    return smtplib.quoteaddr(address)


def _dot_stuffed(message: bytes) -> bytes:
    """RFC 5321 4.5.2 transparency, and a body that ends with CRLF before the dot."""
    body = (_LEADING_DOT.sub(b"..", message)
            if message.startswith(b".") or b"\n." in message else message)
    return body if body.endswith(b"\r\n") else body + b"\r\n"


class BulkConnection:
    """One SMTP connection, opened when first needed and again after a failure."""

    def __init__(self, transport: SmtpTransport) -> None:
        self._transport = transport
        self._client: smtplib.SMTP | None = None
        self.pipelining = False
        """Whether the server offered PIPELINING (RFC 2920) on this connection."""

    def _open(self) -> smtplib.SMTP:
        if self._client is None:
            client = self._transport._connect()
            client.ehlo_or_helo_if_needed()
            # The final dot is a small write after the body: with Nagle's algorithm it
            # would wait for the body's (delayed) ACK, about 40 ms per message.
            if client.sock is not None:
                client.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            config = self._transport.config
            if config.username and config.password is not None:
                client.login(config.username, config.password.get_secret_value())
            self.pipelining = client.has_extn("pipelining")
            self._client = client
        return self._client

    def drop(self) -> None:
        """Close without QUIT: a message in DATA without its dot is discarded."""
        if self._client is not None:
            try:
                self._client.close()
            finally:
                self._client = None

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._client.quit()
            self.drop()

    @staticmethod
    def _mail_from(client: smtplib.SMTP, msg: BulkMessage) -> str | None:
        """MAIL FROM's argument, with SMTPUTF8 for a non-ASCII address (commands then go
        in UTF-8); None when that is needed and the server does not offer it."""
        options = smtputf8_options(msg.mail_from, msg.to)
        if not options:
            return f"FROM:{_path(msg.mail_from)}"
        if not client.has_extn("smtputf8"):
            return None
        client.command_encoding = "utf-8"
        return f"FROM:{_path(msg.mail_from)} {' '.join(options)}"

    def _envelope(self, client: smtplib.SMTP, msg: BulkMessage) -> Result | None:
        """MAIL, RCPT and DATA; the refusal as a result, or None when the server waits
        for the message."""
        mail_from = self._mail_from(client, msg)
        if mail_from is None:
            return Result(msg.ticket, "bounced", NO_SMTPUTF8[:120])
        if self.pipelining:
            return self._pipelined(client, msg, mail_from)
        steps: tuple[tuple[str, tuple[int, ...], Callable[[], tuple[int, bytes]]], ...] = (
            ("MAIL", (250,), lambda: client.docmd("MAIL", mail_from)),
            ("RCPT", (250, 251), lambda: client.docmd("RCPT", f"TO:{_path(msg.to)}")),
            ("DATA", (354,), lambda: client.docmd("DATA")))
        for step, expected, command in steps:
            code, _ = command()
            if code not in expected:
                client.rset()
                return Result(msg.ticket, _outcome(code), f"{code} {step}")
        return None

    def _pipelined(self, client: smtplib.SMTP, msg: BulkMessage, mail_from: str
                   ) -> Result | None:
        """MAIL, RCPT and DATA in one write, their three replies read after it (RFC 2920:
        DATA ends the group; the message follows only after its 354). One round trip
        instead of three."""
        client.send(f"MAIL {mail_from}\r\nRCPT TO:{_path(msg.to)}\r\nDATA\r\n")
        replies = [client.getreply()[0] for _ in range(3)]
        for step, expected, code in zip(("MAIL", "RCPT", "DATA"), ((250,), (250, 251), (354,)),
                                        replies, strict=True):
            if code not in expected:
                if replies[2] == 354:
                    # The server waits for a message it should not take (a step before
                    # was refused): close without the dot, and it discards what it has.
                    self.drop()
                else:
                    client.rset()
                return Result(msg.ticket, _outcome(code), f"{code} {step}")
        return None

    def transact(self, msg: BulkMessage, ledger: Ledger, settled: Sequence[Result]
                 ) -> tuple[Result, bool]:
        """Send one message; (its result, whether `settled` was committed with it)."""
        handed = False
        try:
            client = self._open()
            refused = self._envelope(client, msg)
            if refused is not None:
                return refused, False
            client.send(_dot_stuffed(msg.message))
            if not ledger.hand_over(msg.ticket, settled):
                self.drop()  # no dot: the server discards what it has
                return Result(msg.ticket, "skipped", "send check refused"), True
            handed = True
            client.send(b".\r\n")
            code, reply = client.getreply()
        except (smtplib.SMTPException, OSError) as exc:
            self.drop()
            if handed:  # the dot may have arrived: never send it again
                return Result(msg.ticket, "in-doubt", type(exc).__name__), True
            return Result(msg.ticket, "deferred", f"connection: {type(exc).__name__}"), False
        if code == 250:
            return Result(msg.ticket, "sent", "250"), True
        return Result(msg.ticket, _outcome(code), f"{code} {reply[:120]!r}"), True


_DONE = object()


class BulkSender:
    """Hands messages to `connections` SMTP connections, each in a thread of its own.

    `submit` blocks while the small queue is full, so whatever the caller checks
    just before submitting (consent, the campaign's status) is at most a few
    messages old when the message goes out. `close` waits for every message."""

    def __init__(self, config: SmtpConfig, ledger: Ledger, *, connections: int = 4,
                 pacer: Pacer | None = None,
                 connection_factory: Callable[[], BulkConnection] | None = None) -> None:
        transport = SmtpTransport(config)
        self._ledger = ledger
        self._pacer = pacer or Pacer()
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max(2, 2 * connections))
        factory = connection_factory or (lambda: BulkConnection(transport))
        self._threads = [threading.Thread(target=self._work, args=(factory(),),
                                          name=f"bulk-smtp-{i}", daemon=True)
                         for i in range(connections)]
        self.errors: list[BaseException] = []
        for thread in self._threads:
            thread.start()

    def submit(self, msg: BulkMessage) -> None:
        if self.errors:
            raise self.errors[0]
        self._queue.put(msg)

    def close(self) -> None:
        for _ in self._threads:
            self._queue.put(_DONE)
        for thread in self._threads:
            thread.join()
        if self.errors:
            raise self.errors[0]

    def _work(self, connection: BulkConnection) -> None:
        pending: list[Result] = []
        try:
            while True:
                try:
                    item = self._queue.get(timeout=0.05)
                except queue.Empty:
                    if pending:  # idle: record what is known now
                        self._ledger.settle(pending)
                        pending = []
                    continue
                if item is _DONE:
                    break
                self._pacer.wait(item.domain)
                result, committed = connection.transact(item, self._ledger, pending)
                if committed:
                    pending = []
                if result.outcome == "sent":
                    pending.append(result)
                else:
                    self._ledger.settle([*pending, result])
                    pending = []
            if pending:
                self._ledger.settle(pending)
        except BaseException as exc:
            log.error("bulk sender stopped: %s", where_it_failed(exc))
            self.errors.append(exc)
            while True:  # unblock a waiting submit
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break
        finally:
            connection.close()
