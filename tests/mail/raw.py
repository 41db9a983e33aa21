"""Reading headers from the raw bytes a server received, folding kept as it was."""

from __future__ import annotations


def raw_header(message: bytes, name: str) -> bytes:
    """The one header `name` as sent: its first line and continuation lines, CRLF kept."""
    head = message.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    found: list[list[bytes]] = []
    for line in head:
        if line[:1] in (b" ", b"\t") and found and found[-1]:
            found[-1].append(line)
        elif line.lower().startswith(name.lower().encode() + b":"):
            found.append([line])
        elif found and found[-1]:
            found.append([])
    headers = [h for h in found if h]
    assert len(headers) == 1, f"{name} appears {len(headers)} times"
    return b"\r\n".join(headers[0])
