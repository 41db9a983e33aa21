"""Bounce and complaint reports as raw RFC 5322 bytes, written out by hand here (not with
any builder of ehrlich's), the way a receiving MTA or a mailbox provider sends them."""

from __future__ import annotations

DSN = """\
From: Mail Delivery System <MAILER-DAEMON@mx.example.org>
To: news@shop.example
Subject: Undelivered Mail Returned to Sender
Date: Mon, 30 Nov 2026 12:00:00 +0000
Message-ID: <dsn-{n}@mx.example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
 boundary="=_bounce_{n}"

--=_bounce_{n}
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.org.
I'm sorry to have to inform you that your message could not be delivered.

--=_bounce_{n}
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org
Arrival-Date: Mon, 30 Nov 2026 11:59:58 +0000

Final-Recipient: rfc822; {address}
Original-Recipient: rfc822;{address}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; {status_class}50 {status} mailbox problem

--=_bounce_{n}
Content-Type: {original_type}

{original}
--=_bounce_{n}--
"""

ORIGINAL_HEADERS = """\
Return-Path: <news@shop.example>
From: Ehrlich Shop <news@shop.example>
To: {address}
Subject: Autumn news
Message-ID: {message_id}
Date: Mon, 30 Nov 2026 11:59:57 +0000
"""

ARF = """\
From: Feedback Loop <fbl@isp.example>
To: abuse@shop.example
Subject: FW: Autumn news
Date: Mon, 30 Nov 2026 13:00:00 +0000
Message-ID: <arf-{n}@isp.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report;
 boundary="part1_{n}"

--part1_{n}
Content-Type: text/plain; charset="US-ASCII"
Content-Transfer-Encoding: 7bit

This is an email abuse report for an email message received from IP
192.0.2.1 on Mon, 30 Nov 2026 12:00:00 +0000.

--part1_{n}
Content-Type: message/feedback-report

Feedback-Type: {feedback_type}
User-Agent: SomeGenerator/1.0
Version: 1
Original-Mail-From: <news@shop.example>
Original-Rcpt-To: <{address}>
Arrival-Date: Mon, 30 Nov 2026 12:00:00 +0000
Reported-Domain: shop.example
Source-IP: 192.0.2.1

--part1_{n}
Content-Type: message/rfc822
Content-Disposition: inline

{original}
Hello, new in the shop.

--part1_{n}--
"""


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode()


def dsn(message_id: str, address: str, *, action: str = "failed", status: str = "5.1.1",
        headers_only: bool = True, n: int = 1) -> bytes:
    original = ORIGINAL_HEADERS.format(address=address, message_id=message_id)
    return crlf(DSN.format(
        n=n, address=address, action=action, status=status, status_class=status[0],
        original_type="text/rfc822-headers" if headers_only else "message/rfc822",
        original=original))


def arf(message_id: str, address: str, *, feedback_type: str = "abuse", n: int = 1) -> bytes:
    original = ORIGINAL_HEADERS.format(address=address, message_id=message_id)
    return crlf(ARF.format(n=n, address=address, feedback_type=feedback_type,
                           original=original))
