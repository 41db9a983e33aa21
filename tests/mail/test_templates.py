"""Mail templates in English and German, text and HTML."""

from __future__ import annotations

from ehrlich.mail.templates import MailTemplates

CONTEXT = {"purposes": ["Newsletter <b>weekly</b>"], "confirm_url": "https://s.example/c/1?a=1&b=2",
           "unsubscribe_url": "https://s.example/u/1", "valid_days": 30,
           "controller_name": "Shop & Co", "controller_contact": "privacy@s.example"}


def test_english_and_german_confirmation() -> None:
    templates = MailTemplates()
    en = templates.render("confirm_subscription", "en", **CONTEXT)
    de = templates.render("confirm_subscription", "de-DE", **CONTEXT)
    assert en.subject == "Please confirm: Newsletter <b>weekly</b>"
    assert de.subject.startswith("Bitte bestätigen: ")
    assert (en.language, de.language) == ("en", "de")
    assert "https://s.example/c/1?a=1&b=2" in en.text
    assert "Der Link gilt 30 Tage" in de.text
    assert en.template_hash != de.template_hash
    assert len(en.template_hash) == 64


def test_html_is_autoescaped_and_text_is_not() -> None:
    mail = MailTemplates().render("confirm_subscription", "en", **CONTEXT)
    assert "Newsletter &lt;b&gt;weekly&lt;/b&gt;" in mail.html
    assert "<b>weekly" not in mail.html
    assert 'href="https://s.example/c/1?a=1&amp;b=2"' in mail.html
    assert "Shop &amp; Co" in mail.html
    assert "Newsletter <b>weekly</b>" in mail.text


def test_unknown_language_falls_back_to_english_with_the_same_hash() -> None:
    templates = MailTemplates()
    fr = templates.render("confirm_subscription", "fr", **CONTEXT)
    en = templates.render("confirm_subscription", "en", **CONTEXT)
    assert fr.language == "en"
    assert fr.template_hash == en.template_hash


def test_the_confirmation_reads_as_a_sentence_in_both_languages() -> None:
    templates = MailTemplates()
    mail = templates.render("confirm_subscription", "en", **CONTEXT)
    assert ("Someone, hopefully you, asked Shop & Co to send the following to this "
            "address:") in mail.text
    assert "asked Shop &amp; Co to send the following to this address:</p>" in mail.html
    assert "send this address" not in mail.text + mail.html
    de = templates.render("confirm_subscription", "de", **CONTEXT)
    for body in (de.text, de.html):
        assert "gebeten, Folgendes an diese Adresse zu senden:" in body
    one_day = CONTEXT | {"valid_days": 1}
    assert "valid for 1 day." in templates.render("confirm_subscription", "en", **one_day).html
    assert "Der Link gilt 1 Tag." in templates.render("confirm_subscription", "de", **one_day).text
