"""Bulk SMTP with PIPELINING (RFC 2920) against a real server on loopback (aiosmtpd):
MAIL, RCPT and DATA go in one write; refusals are read in order and leave the
connection usable; every message is handed over (recorded) before its final dot."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from email import message_from_bytes, policy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ehrlich.mail.bulk import BulkConnection, BulkMessage, BulkSender, Result, _dot_stuffed
from ehrlich.mail.smtp import SmtpConfig, SmtpTransport
from tests.e2e.servers import free_port
from tests.mail.smtp_server import SmtpServer


class Book:
    """The caller's ledger (`ehrlich.mail.bulk.Ledger`), kept in memory: what was handed
    over, what was settled, and how many messages the server held at each hand-over."""

    def __init__(self, server: SmtpServer, refuse_hand_over: frozenset[str] = frozenset()
                 ) -> None:
        self.server, self.refuse = server, refuse_hand_over
        self.handed: list[str] = []
        self.results: dict[str, Result] = {}
        self.lock = threading.Lock()

    def hand_over(self, ticket: Any, settled: Sequence[Result]) -> bool:
        with self.lock:
            # Before the dot: the server has not taken this message yet.
            assert ticket not in {m.rcpt_tos[0] for m in self.server.received}
            self.results.update((r.ticket, r) for r in settled)
            if ticket in self.refuse:
                return False
            self.handed.append(ticket)
            return True

    def settle(self, results: Sequence[Result]) -> None:
        with self.lock:
            self.results.update((r.ticket, r) for r in results)


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    smtp = SmtpServer(free_port())
    smtp.handler.pipelining = True
    smtp.start()
    yield smtp
    smtp.stop()


def _config(server: SmtpServer) -> SmtpConfig:
    return SmtpConfig(host="127.0.0.1", port=server.port, tls="none")


def _message(to: str) -> BulkMessage:
    raw = (f"From: news@shop.example\r\nTo: {to}\r\nSubject: hi\r\n"
           f"Message-ID: <{to}>\r\n\r\n.leading dot\r\nbody\r\n").encode()
    return BulkMessage(to, "news@shop.example", to, raw)


def test_the_connection_sees_the_offer(server: SmtpServer) -> None:
    connection = BulkConnection(SmtpTransport(_config(server)))
    try:
        connection._open()
        assert connection.pipelining
    finally:
        connection.close()


@pytest.mark.parametrize("pipelining", [True, False])
def test_refusals_in_a_pipelined_group_are_read_in_order(server: SmtpServer,
                                                         pipelining: bool) -> None:
    server.handler.pipelining = pipelining
    addresses = [f"p{i}@example.org" for i in range(30)]
    server.handler.refused = {addresses[3]: "550 5.1.1 no such user",
                              addresses[10]: "451 4.3.0 try later"}
    book = Book(server, refuse_hand_over=frozenset({addresses[20]}))
    sender = BulkSender(_config(server), book, connections=2)
    for to in addresses:
        sender.submit(_message(to))
    sender.close()
    outcomes = {to: book.results[to].outcome for to in addresses}
    assert outcomes[addresses[3]] == "bounced"
    assert outcomes[addresses[10]] == "deferred"
    assert outcomes[addresses[20]] == "skipped"
    assert {o for to, o in outcomes.items()
            if to not in (addresses[3], addresses[10], addresses[20])} == {"sent"}
    got = [m.rcpt_tos[0] for m in server.received]
    assert sorted(got) == sorted(set(addresses) - {addresses[3], addresses[10], addresses[20]})
    assert set(book.handed) == set(got)
    first = message_from_bytes(server.received[0].data, policy=policy.default)
    assert first.get_content().startswith(".leading dot")  # dot-stuffed and unstuffed
    # A refused recipient costs no new connection (a refused hand-over drops one, and
    # the next message on that thread opens another).
    assert server.handler.connections <= 2 + 1


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(st.sampled_from([b"", b".", b"..", b".x", b"x.", b"a.b", b" .", b"x"]),
                      max_size=8), crlf_end=st.booleans())
def test_dot_stuffing_doubles_every_leading_dot_and_nothing_else(lines: list[bytes],
                                                                 crlf_end: bool) -> None:
    """RFC 5321 4.5.2, read back line by line: each line that starts with a dot gains one,
    the others are as they were, and the data ends with CRLF before the final dot."""
    message = b"\r\n".join(lines) + (b"\r\n" if crlf_end else b"")
    stuffed = _dot_stuffed(message)
    assert stuffed.endswith(b"\r\n")
    sent = stuffed[:-2].split(b"\r\n")
    data = message if message.endswith(b"\r\n") else message + b"\r\n"
    original = data[:-2].split(b"\r\n")
    assert len(sent) == len(original)
    for got, line in zip(sent, original, strict=True):
        assert got == (b"." + line if line.startswith(b".") else line)


@pytest.mark.parametrize("smtputf8", [True, False])
def test_a_non_ascii_address_is_sent_with_smtputf8_or_bounced_and_the_rest_go_on(
        smtputf8: bool) -> None:
    smtp = SmtpServer(free_port(), enable_SMTPUTF8=smtputf8)
    smtp.handler.pipelining = True
    smtp.start()
    try:
        book = Book(smtp)
        sender = BulkSender(_config(smtp), book, connections=1)
        addresses = ["a@example.org", "jürgen@example.org", "b@example.org"]
        for to in addresses:
            sender.submit(_message(to))
        sender.close()  # raises what stopped a connection's thread
    finally:
        smtp.stop()
    outcomes = {to: book.results[to].outcome for to in addresses}
    assert outcomes == {"a@example.org": "sent", "b@example.org": "sent",
                        "jürgen@example.org": "sent" if smtputf8 else "bounced"}
    got = sorted(m.rcpt_tos[0] for m in smtp.received)
    assert got == sorted(to for to in addresses if outcomes[to] == "sent")
    if not smtputf8:
        assert "SMTPUTF8" in book.results["jürgen@example.org"].reply
