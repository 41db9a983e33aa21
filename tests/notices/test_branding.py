"""Branding: validated in the service (colour, contrast, logo type and size, each refusal
naming its field), edited in the console, shown on the public pages."""

# ruff: noqa: F401, F811 - the staff fixtures are imported by name and used as parameters

from __future__ import annotations

import struct
import zlib

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from ehrlich.errors import InvalidInput
from ehrlich.instance.service import Instance
from ehrlich.notices.brand_cache import LIFETIME, BrandCache
from ehrlich.notices.branding import contrast_ratio, current_brand, save_branding
from ehrlich.notices.example import example_notice_text
from tests.auth.conftest import (
    Clock,
    Staff,
    clock,
    console,
    form_value,
    open_session,
    settings,
)
from tests.conftest import NOW

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def png(width: int = 2, height: int = 2, *, padding: int = 0) -> bytes:
    """A real PNG (red pixels), with an optional text chunk to make it larger."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    rows = b"".join(b"\0" + b"\xcc\x00\x00" * width for _ in range(height))
    extra = chunk(b"tEXt", b"Comment\0" + b"x" * padding) if padding else b""
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height,
                                                              8, 2, 0, 0, 0))
            + extra + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _save(instance: Instance, **changes: object) -> None:
    fields: dict[str, object] = {"name": "Radhaus Linden", "contact": "hallo@radhaus.example",
                                 "accent": "#0b5394", "logo": None}
    fields.update(changes)
    with instance.db.write() as session:
        save_branding(session, instance.audit, instance.notices, actor="test", now=NOW, **fields)  # type: ignore[arg-type]


def test_contrast_ratio_matches_wcag() -> None:
    assert contrast_ratio("#000000") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff") == pytest.approx(1.0)
    assert contrast_ratio("#767676") == pytest.approx(4.54, abs=0.01)  # the known 4.5 grey
    assert contrast_ratio("#777777") < 4.5


@pytest.mark.parametrize(("changes", "field", "reason"), [
    ({"accent": "blue"}, "accent", "#rrggbb"),
    ({"accent": "#0b53945"}, "accent", "#rrggbb"),
    ({"accent": "#ffd700"}, "accent", "needs at least 4.5:1"),
    ({"name": "  "}, "name", "is empty"),
    ({"name": "Radhaus\nLinden"}, "name", "one line"),
    ({"logo": SVG}, "logo", "PNG or WebP"),
    ({"logo": b"GIF89a" + b"\0" * 20}, "logo", "PNG or WebP"),
    ({"logo": png(padding=210 * 1024)}, "logo", "at most 200 KB"),
])
def test_bad_branding_is_refused_naming_the_field(instance: Instance, changes: dict[str, object],
                                                  field: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        _save(instance, **changes)
    assert [p.field for p in refused.value.problems] == [field]
    assert reason in refused.value.problems[0].reason
    with instance.db.read() as session:
        assert not current_brand(session, instance.notices).saved


def test_public_pages_show_the_brand_with_a_versioned_stylesheet(
        instance: Instance, client: TestClient) -> None:
    with instance.db.write() as session:
        instance.notices.publish(session, example_notice_text(), file="n.yaml",
                                 publisher="test", now=NOW)
    before = client.get("/notice").text
    assert '<p class="brand"><a href="/">Lindenhof Fahrradmanufaktur GmbH</a>' in before
    assert ('<a class="contact" href="mailto:privacy@lindenhof-rad.example">'
            'privacy@lindenhof-rad.example</a>') in before
    # Every public page's footer leads to the notice and to the person's own data.
    assert '<a href="/notice">Privacy notice</a> · <a href="/my-data">Your data</a>' in before
    _save(instance, logo=png(), accent="#8a1c1c")
    with instance.db.read() as session:
        brand = current_brand(session, instance.notices)
    for path in ("/", "/notice", "/signup", "/embed/signup"):
        page = client.get(path).text
        assert f'href="/brand.css?v={brand.version}"' in page, path
        assert "style=" not in page, path
    home = client.get("/").text
    assert '<img src="/brand/logo?v=' in home
    assert "Radhaus Linden</a>" in home
    assert '<a class="contact" href="mailto:hallo@radhaus.example">' in home
    assert "runs on ehrlich" in home
    assert "läuft mit ehrlich" in client.get("/?lang=de").text  # the footer speaks German
    css = client.get(f"/brand.css?v={brand.version}")
    assert css.headers["content-type"].startswith("text/css")
    assert css.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert css.content == b":root { --accent: #8a1c1c; }\n"
    assert client.get("/brand.css?v=old").headers["cache-control"] == "no-cache"
    logo = client.get(f"/brand/logo?v={brand.version}")
    assert logo.headers["content-type"] == "image/png"
    assert logo.headers["x-content-type-options"] == "nosniff"
    assert logo.content == png()


def test_console_branding_form_keeps_input_and_names_the_field(
        console: TestClient, make_staff: object, clock: Clock, instance: Instance) -> None:
    owner: Staff = make_staff("owner")  # type: ignore[operator]
    open_session(console, owner, clock.now)
    page = console.get("/admin/notice/branding").text
    csrf = form_value(page, "csrf")
    refused = console.post("/admin/notice/branding", data={
        "name": "Radhaus", "contact": "hallo@radhaus.example", "accent": "#ffd700",
        "csrf": csrf}, files={"logo": ("logo.svg", SVG, "image/svg+xml")})
    assert refused.status_code == 422
    assert 'id="brand-accent-error">has a contrast of 1.4:1' in refused.text
    assert 'id="brand-logo-error">must be a PNG or WebP image' in refused.text
    assert 'value="Radhaus"' in refused.text
    assert 'value="#ffd700"' in refused.text
    saved = console.post("/admin/notice/branding", data={
        "name": "Radhaus", "contact": "", "accent": "#0B5394", "csrf": csrf},
        files={"logo": ("logo.png", png(), "image/png")})
    assert saved.status_code == 200
    assert "Branding saved." in saved.text
    with instance.db.read() as session:
        brand = current_brand(session, instance.notices)
    assert (brand.name, brand.accent, brand.logo_type) == ("Radhaus", "#0b5394", "image/png")


def test_a_change_made_by_another_process_shows_within_the_lifetime(
        instance: Instance, client: TestClient) -> None:
    """Another process's saved branding is not announced to this one: its pages show the
    brand they kept until `LIFETIME` has passed, then the new one."""
    clock = [0.0]
    instance.notices.brand = BrandCache(clock=lambda: clock[0])
    _save(instance)
    assert "Radhaus Linden</a>" in client.get("/").text
    with instance.db.write() as session:  # as another process's save would, unannounced
        session.execute(text("UPDATE branding SET name = 'Radhaus am Markt'"))
    clock[0] += LIFETIME - 0.1
    assert "Radhaus Linden</a>" in client.get("/").text
    clock[0] += 0.2
    assert "Radhaus am Markt</a>" in client.get("/").text


def test_publishing_the_first_notice_names_the_business_at_once(
        instance: Instance, client: TestClient) -> None:
    """Until branding is saved the notice's controller names the business: the brand a
    page kept before the first publication is forgotten when it commits."""
    assert '<p class="brand"><a href="/">ehrlich</a>' in client.get("/").text
    with instance.db.write() as session:
        instance.notices.publish(session, example_notice_text(), file="n.yaml",
                                 publisher="test", now=NOW)
    assert ('<p class="brand"><a href="/">Lindenhof Fahrradmanufaktur GmbH</a>'
            in client.get("/").text)
