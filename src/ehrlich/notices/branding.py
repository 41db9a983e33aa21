"""How the public pages name the business: name, contact line, accent colour, logo.

The accent must be `#rrggbb` with a contrast of at least 4.5:1 against white
(WCAG 2.2 success criterion 1.4.3, the ratio of relative luminances), since it
colours links and focus rings on white pages. A logo is PNG or WebP only,
recognised by its magic bytes, at most 200 KB: SVG can carry scripts, and a
file is never served as anything but the type its bytes prove. Without saved
branding the public pages use the published notice's controller.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from sqlalchemy import Row, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ehrlich.audit.service import AuditEvent, AuditLog
from ehrlich.errors import FieldProblem, InvalidInput
from ehrlich.notices.errors import NoticeNotPublished
from ehrlich.notices.models import Branding
from ehrlich.notices.schemas import Brand
from ehrlich.notices.service import NoticesService
from ehrlich.storage.database import Database

BRANDING_ID = 1
DEFAULT_ACCENT = "#0b5394"
MIN_CONTRAST = 4.5
MAX_LOGO_BYTES = 200 * 1024
_HEX = re.compile(r"#[0-9a-fA-F]{6}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def contrast_ratio(colour: str, background: str = "#ffffff") -> float:
    """WCAG contrast ratio of two `#rrggbb` colours (1.0 to 21.0)."""

    def luminance(value: str) -> float:
        channels = [int(value[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
                  for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(colour), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def logo_type(data: bytes) -> str | None:
    """The image type the bytes prove (PNG or WebP), or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _problems(name: str, contact: str, accent: str, logo: bytes | None) -> list[FieldProblem]:
    problems = []
    if not name.strip():
        problems.append(FieldProblem("name", "is empty"))
    elif len(name) > 200 or _CONTROL.search(name):
        problems.append(FieldProblem("name", "must be one line of at most 200 characters"))
    if len(contact) > 300 or _CONTROL.search(contact):
        problems.append(FieldProblem("contact", "must be one line of at most 300 characters"))
    if not _HEX.fullmatch(accent):
        problems.append(FieldProblem("accent", "must be a colour written #rrggbb"))
    elif (ratio := contrast_ratio(accent)) < MIN_CONTRAST:
        problems.append(FieldProblem("accent", f"has a contrast of {ratio:.1f}:1 against "
                                     f"white; it needs at least {MIN_CONTRAST}:1 to be "
                                     "readable (choose a darker colour)"))
    if logo is not None:
        if len(logo) > MAX_LOGO_BYTES:
            problems.append(FieldProblem("logo", f"is {len(logo) // 1024} KB; at most "
                                         f"{MAX_LOGO_BYTES // 1024} KB"))
        elif logo_type(logo) is None:
            problems.append(FieldProblem("logo", "must be a PNG or WebP image (SVG and "
                                         "other formats are refused)"))
    return problems


def _version(name: str, contact: str, accent: str, logo: bytes | None) -> str:
    digest = hashlib.sha256()
    for part in (name, contact, accent):
        digest.update(part.encode("utf-8") + b"\0")
    digest.update(logo or b"")
    return digest.hexdigest()[:16]


def save_branding(session: Session, audit: AuditLog, notices: NoticesService, *, name: str,
                  contact: str, accent: str, logo: bytes | None, remove_logo: bool = False,
                  actor: str, now: datetime) -> Brand:
    """Store the branding; `logo=None` keeps the current logo unless `remove_logo`. The
    public pages of this process show it once the transaction commits, the others'
    within `brand_cache.LIFETIME`."""
    name, contact, accent = name.strip(), contact.strip(), accent.strip().lower()
    problems = _problems(name, contact, accent, logo)
    if problems:
        raise InvalidInput(problems)
    row = session.get(Branding, BRANDING_ID)
    if row is None:
        row = Branding(id=BRANDING_ID, logo=None, logo_type=None)
        session.add(row)
    row.name, row.contact, row.accent = name, contact, accent
    if logo is not None:
        row.logo, row.logo_type = logo, logo_type(logo)
    elif remove_logo:
        row.logo, row.logo_type = None, None
    row.updated_at, row.updated_by = now, actor
    notices.brand.forget_after_commit(session)
    audit.record(session, AuditEvent(actor, "branding.save", "branding", {
        "accent": accent, "logo": row.logo_type or "none"}), now=now)
    return _brand(row)


_CURRENT = select(Branding.name, Branding.contact, Branding.accent, Branding.logo_type,
                  Branding.logo).where(Branding.id == BRANDING_ID)


def _brand(row: Branding | Row[str, str, str, str | None, bytes | None]) -> Brand:
    return Brand(row.name, row.contact, row.accent, row.logo_type,
                 _version(row.name, row.contact, row.accent, row.logo), True)


def current_brand(session: Session, notices: NoticesService) -> Brand:
    """The saved branding, or the published notice's controller, or plain ehrlich."""
    # A statement built once rather than `session.get`: every public page asks, and the
    # ORM's identity look-up cost more than the query.
    row = session.execute(_CURRENT).first()
    if row is not None:
        return _brand(row)
    try:
        controller = notices.current(session).notice.controller
        name, contact = controller.name, controller.contact
    except NoticeNotPublished:
        return plain_brand()
    return Brand(name, contact, DEFAULT_ACCENT, None,
                 _version(name, contact, DEFAULT_ACCENT, None), False)


def public_brand(db: Database, notices: NoticesService) -> Brand:
    """The brand a public page shows, kept a few seconds by this process
    (`brand_cache`); plain ehrlich when the database cannot say, as an error page must
    still render."""
    def read() -> Brand:
        with db.read() as session:
            return current_brand(session, notices)

    try:
        return notices.brand.get(read)
    except SQLAlchemyError:
        return plain_brand()


def plain_brand() -> Brand:
    """No branding and no notice yet: the product's own name."""
    return Brand("ehrlich", "", DEFAULT_ACCENT, None,
                 _version("ehrlich", "", DEFAULT_ACCENT, None), False, provisional=True)


def logo_of(session: Session) -> tuple[bytes, str] | None:
    row = session.get(Branding, BRANDING_ID)
    if row is None or row.logo is None or row.logo_type is None:
        return None
    return row.logo, row.logo_type


def brand_css(brand: Brand) -> str:
    """The stylesheet that carries the accent (the CSP forbids inline styles)."""
    return f":root {{ --accent: {brand.accent}; }}\n"
