"""A new staff member's first sign-in in Debian's Chromium, as they would do it: the
one-time password, the authenticator app set up by scanning the QR code on the screen,
a new password refused as too weak and a good one accepted, then signing out and in again
with the new password and a code."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
import zxingcpp
from playwright.sync_api import Browser, Page

from ehrlich.auth.roles import Role
from ehrlich.domains import open_instance
from ehrlich.instance.service import init_instance
from ehrlich.settings import Settings
from tests.e2e.servers import running_servers

pytestmark = pytest.mark.slow

EMAIL, NEW_PASSWORD = "mara@example.org", "glacier-orbit-parsley-42"


def png_to_gray(png: bytes) -> memoryview:
    """The pixels of an 8-bit RGB(A) PNG, as Chromium's screenshots are, in grayscale
    (height x width), for the barcode reader: the PNG format (RFC 2083) decoded by hand."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, data, header = 8, b"", b""
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        chunk = png[pos + 8:pos + 8 + length]
        header = chunk if kind == b"IHDR" else header
        data += chunk if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, colour, interlace) in ((8, 2, 0), (8, 6, 0)), "not a screenshot PNG"
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(data), width * bpp
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = previous[x], previous[x - bpp] if x >= bpp else 0
            if kind == 1:
                line[x] = (line[x] + a) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + b) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(line)
        previous = line
    gray = bytes((r[x] * 299 + r[x + 1] * 587 + r[x + 2] * 114) // 1000
                 for r in rows for x in range(0, stride, bpp))
    return memoryview(gray).cast("B", (height, width))


def _submit(page: Page, form: str) -> None:
    with page.expect_navigation():
        page.click(f"{form} button[type=submit]")


def test_first_sign_in_scans_the_qr_code_and_replaces_the_one_time_password(
        tmp_path: Path, browser: Browser, database_url: str) -> None:
    settings = Settings(data_dir=tmp_path / "data", key_file=tmp_path / "keys" / "k.key",
                        database_url=database_url)
    now = datetime.now(UTC)
    init_instance(settings, now=now)
    instance = open_instance(settings)
    with instance.db.write() as session:  # a marketer: every role needs a second factor
        _, one_time = instance.staff.users.add(session, email=EMAIL, role=Role.MARKETER,
                                               actor="test", actor_role=Role.OWNER, now=now)
    instance.close()
    assert one_time is not None

    with running_servers(settings.data_dir / "ehrlich.toml", 1,
                         env={"EHRLICH_INPROCESS_WORKER": "false"}) as urls:
        page = browser.new_page(base_url=urls[0])
        page.goto("/admin/login")
        page.fill("#email", EMAIL)
        page.fill("#password", one_time)
        _submit(page, "#login-form")
        assert page.url.endswith("/admin/enrol")

        # Scan the code as a phone would: from the pixels on the screen.
        shot = page.locator("figure.qr").screenshot()
        found = zxingcpp.read_barcodes(png_to_gray(shot))
        assert [b.format for b in found] == [zxingcpp.BarcodeFormat.QRCode]
        uri = found[0].text
        assert uri.startswith("otpauth://totp/")
        app = pyotp.parse_uri(uri)
        assert isinstance(app, pyotp.TOTP)
        assert app.secret == page.inner_text("#totp-secret").strip()
        enrolled_at = datetime.now(UTC)
        page.fill("#code", app.at(enrolled_at))
        _submit(page, "main form")
        assert page.locator("#recovery-codes li").count() == 10

        # Anything else sends the one-time password's holder to Account, which says why.
        page.goto("/admin")
        assert page.url.endswith("/admin/account")
        assert "Choose your own password now" in page.inner_text("#must-change")
        page.fill("#current", one_time)
        page.fill("#new_password", "password1234")
        _submit(page, 'form[action="/admin/account"]')
        assert "too easy to guess" in page.inner_text("main .message")
        page.fill("#current", one_time)
        page.fill("#new_password", NEW_PASSWORD)
        _submit(page, 'form[action="/admin/account"]')
        assert "Your password was changed." in page.inner_text("main .message")
        assert page.locator("#must-change").count() == 0
        assert "This session" in page.inner_text("#sessions")

        page.goto("/admin")
        assert page.url.endswith("/admin/guide")
        _submit(page, "main form")
        assert page.url.endswith("/admin")
        _submit(page, "form.logout")
        assert page.url.endswith("/admin/login")

        page.fill("#email", EMAIL)
        page.fill("#password", one_time)  # the old one no longer works
        _submit(page, "#login-form")
        assert page.url.endswith("/admin/login")
        page.fill("#email", EMAIL)
        page.fill("#password", NEW_PASSWORD)
        _submit(page, "#login-form")
        assert page.url.endswith("/admin/login/code")
        # each step's code works once: the enrolment's step is spent
        later = datetime.now(UTC)
        if app.timecode(later) <= app.timecode(enrolled_at):
            later = enrolled_at + timedelta(seconds=30)
        page.fill("#code", app.at(later))
        _submit(page, "main form")
        assert page.url.endswith("/admin")
        assert page.locator("form.logout span").inner_text() == f"{EMAIL} (Marketer)"
