"""A generated contact list with known shares of bad, suppressed and duplicate rows.

Per block of 100 rows: rows 0–4 are bad (one of each kind of fault), 5–6 are
suppressed addresses, 95–97 repeat the address of row 15–17 of the same block
(in other letter case), the rest are new contacts; even new rows carry consent
evidence. The expected counts and report follow from the layout.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

HEADER = ["E-Mail", "Name", "Kundennummer", "Opt-in-Quelle", "Opt-in-Datum"]
BAD_KINDS = [
    ("E-Mail", "is not a valid email address"),
    ("Name", "control characters"),
    ("E-Mail", "an email address or a phone number is required"),
    ("Opt-in-Datum", "is not a date"),
    ("row", "has 6 cells"),
]


@dataclass
class Sample:
    raw: bytes
    rows: int
    suppressed_emails: list[str]
    rejected: list[tuple[int, str, str]]
    """(spreadsheet row number, column, start of the reason)"""
    created: int = 0
    merged: int = 0
    with_evidence: int = 0
    without_evidence: list[str] = field(default_factory=list)
    """Addresses of new contacts without evidence: the re-permission mail goes to these."""


def _bad_row(slot: int, i: int, row: list[str]) -> list[str]:
    if slot == 0:
        row[0] = f"person{i}-at-example.org"
    elif slot == 1:
        row[1] = f"Person\x1b[31m {i}"
    elif slot == 2:
        row[0] = ""
    elif slot == 3:
        row[3], row[4] = "Shop checkout", "32.13.2024"
    else:
        row.append("extra")
    return row


def make_sample(n: int, *, delimiter: str = ";", bom: bool = True) -> Sample:
    if n % 100:
        raise ValueError("n must be a multiple of 100")
    records: list[list[str]] = [HEADER]
    sample = Sample(b"", n, [], [])
    for i in range(n):
        slot, number = i % 100, i + 2
        email, name = f"person{i}@example.org", f"Person Müller {i}"
        source, given = ("Shop checkout", "01.03.2024" if i % 4 else "2024-03-01") \
            if i % 2 == 0 else ("", "")
        if slot < 5:
            column, reason = BAD_KINDS[slot]
            sample.rejected.append((number, column, reason))
            records.append(_bad_row(slot, i, [email, name, str(i), source, given]))
            continue
        if slot in (5, 6):
            email = f"gone{i}@example.org"
            sample.suppressed_emails.append(email)
        elif slot in (95, 96, 97):
            email, source, given = f"Person{i - 80}@EXAMPLE.org", "", ""
            sample.merged += 1
        else:
            sample.created += 1
            if source:
                sample.with_evidence += 1
            else:
                sample.without_evidence.append(email)
        if slot == 50:
            name = "=HYPERLINK(\"http://evil.example\",\"click\")"
        records.append([email, name, str(i), source, given])
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(records)
    sample.raw = (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8")
    return sample
