"""The signup form for other websites, as HTML to copy: an iframe of `/embed/signup`,
or a plain form that posts to `/signup`.

The plain form carries what the signup handler checks: the notice version it was
made from, the language, the address, and one checkbox per offered purpose next
to that purpose's exact consent text (the server records its own copy of the
text of that version, so the two must match: copy the form again after a
publish). Browsers send the page's origin with the post, and `/signup` accepts
cross-site posts only from `signup_origins`.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

from ehrlich.consent.signup.offers import offers
from ehrlich.notices.service import PublishedNotice


def _base(base_url: str) -> str:
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}"


def iframe_snippet(base_url: str, lang: str) -> str:
    src = f"{_base(base_url)}/embed/signup?lang={lang}"
    title = "Newsletter-Anmeldung" if lang == "de" else "Newsletter signup"
    return (f'<iframe src="{escape(src)}" title="{title}" width="100%" height="640" '
            'loading="lazy"></iframe>')


def form_snippet(base_url: str, published: PublishedNotice, lang: str) -> str:
    base = _base(base_url)
    de = lang == "de"
    lines = [f'<form method="post" action="{escape(base)}/signup" accept-charset="utf-8">',
             f'  <input type="hidden" name="notice_version" value="{published.info.number}">',
             f'  <input type="hidden" name="language" value="{escape(lang)}">',
             '  <p><label for="ehrlich-email">'
             f'{"E-Mail-Adresse" if de else "Email address"}</label>',
             '    <input id="ehrlich-email" name="email" type="email" required maxlength="320" '
             'autocomplete="email"></p>',
             '  <p><label for="ehrlich-name">'
             f'{"Name (freiwillig)" if de else "Name (optional)"}</label>',
             '    <input id="ehrlich-name" name="name" type="text" maxlength="200" '
             'autocomplete="name"></p>']
    for offer in offers(published, lang):
        ident = f"ehrlich-purpose-{escape(offer.purpose)}"
        lines += [f'  <p><input type="checkbox" id="{ident}" name="purpose" '
                  f'value="{escape(offer.purpose)}">',
                  f'    <label for="{ident}">{escape(offer.text)}</label></p>']
    notice = "Datenschutzhinweise" if de else "Privacy notice"
    lines += [f'  <p><button type="submit">{"Anmelden" if de else "Sign up"}</button></p>',
              f'  <p><a href="{escape(base)}/notice?lang={escape(lang)}">{notice}</a> '
              f'({escape(published.notice.controller.name)})</p>',
              '</form>']
    return "\n".join(lines)
