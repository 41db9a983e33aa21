"""Mail templates (Jinja2), English and German, plain text and HTML.

Each mail is `templates/<lang>/<name>.txt` (which sets `subject`) and
`templates/<lang>/<name>.html`; HTML is autoescaped, text is not. Unknown
languages fall back to English. The SHA-256 of the two sources is returned
with the rendering, so a consent record can name the exact template used.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

LANGUAGES = ("en", "de")
DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str
    language: str
    template_hash: str


class MailTemplates:
    def __init__(self) -> None:
        loader = PackageLoader("ehrlich.mail", "templates")
        self._text = Environment(loader=loader, autoescape=False,  # noqa: S701 - plain text
                                 undefined=StrictUndefined, keep_trailing_newline=True)
        self._html = Environment(loader=loader, autoescape=select_autoescape(["html"]),
                                 undefined=StrictUndefined)

    @staticmethod
    def language_for(language: str) -> str:
        base = language.lower().split("-", 1)[0]
        return base if base in LANGUAGES else DEFAULT_LANGUAGE

    def _source(self, env: Environment, name: str) -> str:
        assert env.loader is not None
        source, _, _ = env.loader.get_source(env, name)
        return source

    def render(self, name: str, language: str, **context: Any) -> RenderedMail:
        lang = self.language_for(language)
        text_name, html_name = f"{lang}/{name}.txt", f"{lang}/{name}.html"
        text_template = self._text.get_template(text_name)
        module = text_template.make_module(context)
        subject = str(getattr(module, "subject", "")).strip()
        if not subject:
            raise ValueError(f"mail template {text_name} sets no subject")
        digest = hashlib.sha256()
        for source in (self._source(self._text, text_name), self._source(self._html, html_name)):
            digest.update(len(source.encode()).to_bytes(8, "big") + source.encode())
        return RenderedMail(subject=subject, text=str(module),
                            html=self._html.get_template(html_name).render(context),
                            language=lang, template_hash=digest.hexdigest())
