"""Campaign templates: sandboxed, autoescaped HTML, only the person's fields and links."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ehrlich.campaigns.render import SAMPLE, CampaignTemplates, MailContext
from ehrlich.errors import InvalidInput


def test_renders_name_and_links_and_escapes_html() -> None:
    templates = CampaignTemplates("Hi {{ name }}", "Hello {{ name }} {{ unsubscribe_url }}",
                                  "<p>{{ name }}</p><a href='{{ preferences_url }}'>p</a>")
    person = MailContext(name="<b>Ada</b> & co", unsubscribe_url="https://x/u/1",
                         preferences_url="https://x/p/1")
    out = templates.render(person)
    assert out.subject == "Hi <b>Ada</b> & co"  # a header, not HTML
    assert out.text == "Hello <b>Ada</b> & co https://x/u/1"
    assert out.html == "<p>&lt;b&gt;Ada&lt;/b&gt; &amp; co</p><a href='https://x/p/1'>p</a>"


@pytest.mark.parametrize("source", [
    "{{ email }}", "{{ settings }}", "{{ name.__class__.__mro__ }}",
    "{{ ''.__class__.__subclasses__() }}", "{{ cycler.__init__.__globals__ }}",
])
def test_nothing_else_is_reachable(source: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        CampaignTemplates("s", source, "").check()
    assert caught.value.problems[0].field == "text_body"


def test_syntax_errors_name_the_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        CampaignTemplates("{{ name ", "ok", "{% if %}")
    assert {p.field for p in caught.value.problems} == {"subject", "html_body"}


def test_subject_and_text_are_required() -> None:
    with pytest.raises(InvalidInput) as caught:
        CampaignTemplates(" ", "", "")
    assert {p.field for p in caught.value.problems} == {"subject", "text_body"}


@given(st.text(max_size=60))
def test_subject_is_always_one_line(name: str) -> None:
    out = CampaignTemplates("News for {{ name }}", "x", "").render(
        MailContext(name=name, unsubscribe_url=SAMPLE.unsubscribe_url,
                    preferences_url=SAMPLE.preferences_url))
    assert "\n" not in out.subject
    assert "\r" not in out.subject


_PIECES = st.one_of(
    st.text(alphabet=st.characters(blacklist_characters="{}%#"), max_size=20),
    st.sampled_from(["{{ name }}", "{{name}}", "{{- unsubscribe_url -}}",
                     "{{ preferences_url }}", "{# a comment #}", "{% raw %}{{ x }}{% endraw %}",
                     "\n", "\r\n", "  ", "<p>", "&amp;", "{{ name|upper }}",
                     "{% if name %}yes{% endif %}"]))
_VALUES = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


def _jinja(source: str, context: MailContext, *, html: bool) -> str:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=html,
                               keep_trailing_newline=True)
    return env.from_string(source).render(context.as_dict())


@given(st.lists(_PIECES, max_size=12), _VALUES, _VALUES, _VALUES)
def test_plain_fill_renders_what_jinja_renders(pieces: list[str], name: str, unsub: str,
                                               prefs: str) -> None:
    """Templates of text and plain names are filled without Jinja's render context; the
    output must be Jinja's, escaped where Jinja escapes, for any values (markup, CR/LF,
    non-ASCII)."""
    source = "".join(pieces)
    context = MailContext(name=name, unsubscribe_url=unsub, preferences_url=prefs)
    out = CampaignTemplates("Hi " + source, "t " + source, "<b>" + source).render(context)
    assert out.subject == " ".join(_jinja("Hi " + source, context, html=False).split())
    assert out.text == _jinja("t " + source, context, html=False)
    assert out.html == _jinja("<b>" + source, context, html=True)
