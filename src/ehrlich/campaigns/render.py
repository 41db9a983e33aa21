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

from jinja2 import StrictUndefined, TemplateError, nodes
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import escape

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


class _Fill:
    """A template that is only text and the plain names of `VARIABLES` (`{{ name }}`, no
    filters, tests or statements): rendered by joining its parts, Jinja's own output
    without building a render context per person. The parts are Jinja's parse of the
    source (comments, raw blocks and whitespace control already applied), so the
    output is the same; tests/campaigns/test_render.py compares both."""

    def __init__(self, parts: list[str | tuple[str]], *, escaped: bool) -> None:
        self._parts, self._escaped = parts, escaped

    @classmethod
    def of(cls, env: SandboxedEnvironment, source: str) -> _Fill | None:
        """The fill for `source`, or None when it uses anything else (rendered by Jinja)."""
        body = env.parse(source).body
        if not body:
            return cls([], escaped=env.autoescape is True)
        if len(body) != 1 or not isinstance(body[0], nodes.Output):
            return None
        parts: list[str | tuple[str]] = []
        for node in body[0].nodes:
            if isinstance(node, nodes.TemplateData):
                parts.append(node.data)
            elif (isinstance(node, nodes.Name) and node.ctx == "load"
                  and node.name in VARIABLES):
                parts.append((node.name,))
            else:
                return None
        return cls(parts, escaped=env.autoescape is True)

    def render(self, values: dict[str, str]) -> str:
        if self._escaped:
            return "".join(p if isinstance(p, str) else str(escape(values[p[0]]))
                           for p in self._parts)
        return "".join(p if isinstance(p, str) else values[p[0]] for p in self._parts)


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
        self._fills = {"subject": _Fill.of(plain, subject),
                       "text_body": _Fill.of(plain, text_body),
                       "html_body": _Fill.of(markup, html_body) if self._html else None}

    def render(self, context: MailContext) -> Rendered:
        """Raises `InvalidInput` naming the template that failed (e.g. an unknown name)."""
        values = context.as_dict()
        out: dict[str, str | None] = {}
        for field, template in (("subject", self._subject), ("text_body", self._text),
                                ("html_body", self._html)):
            if template is None:
                out[field] = None
                continue
            fill = self._fills[field]
            if fill is not None:
                out[field] = fill.render(values)
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
