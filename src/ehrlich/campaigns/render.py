"""A campaign's subject and bodies from Jinja2 templates, per person.

Sandboxed (`jinja2.sandbox.SandboxedEnvironment`): a template cannot reach
Python objects, files or the application; it sees only what `MailContext`
gives: the person's own name, and the standard links (`unsubscribe_url`,
`preferences_url`). Undefined names are errors, so a typo is found when the
campaign is saved, not at send time. The HTML body is autoescaped; the
subject and the text body are not (they are not HTML).
"""

from __future__ import annotations

from dataclasses import dataclass

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from ehrlich.errors import FieldProblem, InvalidInput

MAX_SUBJECT = 300
MAX_BODY = 200_000
FIELDS = ("subject", "text_body", "html_body")
VARIABLES = ("name", "unsubscribe_url", "preferences_url")


@dataclass(frozen=True)
class MailContext:
    """What a template may use: the person's own fields and the standard links."""

    name: str
    unsubscribe_url: str
    preferences_url: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "unsubscribe_url": self.unsubscribe_url,
                "preferences_url": self.preferences_url}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None


SAMPLE = MailContext(name="Ada Lovelace", unsubscribe_url="https://example.org/unsubscribe/x",
                     preferences_url="https://example.org/preferences/x")


class CampaignTemplates:
    """Compiles a campaign's three templates once; renders them for each person."""

    def __init__(self, subject: str, text_body: str, html_body: str) -> None:
        plain = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False,
                                     keep_trailing_newline=True)
        markup = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True,
                                      keep_trailing_newline=True)
        problems: list[FieldProblem] = []
        sources = {"subject": subject, "text_body": text_body, "html_body": html_body}
        for field, limit in (("subject", MAX_SUBJECT), ("text_body", MAX_BODY),
                             ("html_body", MAX_BODY)):
            if len(sources[field]) > limit:
                problems.append(FieldProblem(field, f"is longer than {limit} characters"))
        if not subject.strip():
            problems.append(FieldProblem("subject", "is required"))
        if not text_body.strip():
            problems.append(FieldProblem("text_body", "is required (the plain-text version)"))
        if problems:
            raise InvalidInput(problems)
        try:
            self._subject = plain.from_string(subject)
        except TemplateError as exc:
            problems.append(FieldProblem("subject", _reason(exc)))
        try:
            self._text = plain.from_string(text_body)
        except TemplateError as exc:
            problems.append(FieldProblem("text_body", _reason(exc)))
        try:
            self._html = markup.from_string(html_body) if html_body.strip() else None
        except TemplateError as exc:
            problems.append(FieldProblem("html_body", _reason(exc)))
        if problems:
            raise InvalidInput(problems)

    def render(self, context: MailContext) -> Rendered:
        """Raises `InvalidInput` naming the template that failed (e.g. an unknown name)."""
        values = context.as_dict()
        out: dict[str, str | None] = {}
        for field, template in (("subject", self._subject), ("text_body", self._text),
                                ("html_body", self._html)):
            if template is None:
                out[field] = None
                continue
            try:
                out[field] = template.render(values)
            except TemplateError as exc:
                raise InvalidInput.one(field, _reason(exc)) from exc
        subject = " ".join(str(out["subject"]).split())  # a header: one line
        return Rendered(subject=subject, text=str(out["text_body"]), html=out["html_body"])

    def check(self) -> None:
        """Render once with a sample person, so every problem shows when it is saved."""
        self.render(SAMPLE)


def _reason(exc: TemplateError) -> str:
    line = getattr(exc, "lineno", None)
    where = f" (line {line})" if line else ""
    allowed = ", ".join(VARIABLES)
    return f"template error{where}: {exc.message or exc}; available: {allowed}"
