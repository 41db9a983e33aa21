"""A loopback SMTP sink for the campaign benchmark: accepts every message as fast as it can
and, on SIGTERM, writes how many it took and how many distinct Message-IDs to a JSON file.

    python -m bench.smtp_sink PORT RESULT.json [--pipelining]

With `--pipelining` it offers PIPELINING (RFC 2920) in its EHLO reply; aiosmtpd reads
commands one line after another either way, so it only tells the client it may send
MAIL, RCPT and DATA together.
"""

from __future__ import annotations

import json
import re
import signal
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.I | re.M)


class Sink:
    def __init__(self, *, pipelining: bool = False) -> None:
        self.ids: Counter[bytes] = Counter()
        self.recipients: Counter[str] = Counter()
        self.pipelining = pipelining

    async def handle_EHLO(  # noqa: N802 - the name aiosmtpd calls
            self, server: Any, session: Any, envelope: Any, hostname: str,
            responses: list[str]) -> list[str]:
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_DATA(  # noqa: N802 - the name aiosmtpd calls
            self, server: Any, session: Any, envelope: Any) -> str:
        head = bytes(envelope.original_content or envelope.content).split(b"\r\n\r\n", 1)[0]
        found = _MESSAGE_ID.search(head)
        self.ids[found.group(1) if found else b""] += 1
        for rcpt in envelope.rcpt_tos:
            self.recipients[rcpt] += 1
        return "250 OK"


def main() -> None:
    port, result = int(sys.argv[1]), Path(sys.argv[2])
    sink = Sink(pipelining="--pipelining" in sys.argv[3:])
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print("ready", flush=True)
    done.wait()
    controller.stop()
    result.write_text(json.dumps({
        "received": sum(sink.ids.values()), "distinct_ids": len(sink.ids),
        "duplicates": sum(n - 1 for n in sink.ids.values() if n > 1),
        "recipients": len(sink.recipients),
        "recipient_counts": sorted(set(sink.recipients.values()))}))


if __name__ == "__main__":
    main()
