"""Normalisation of email and phone, with property tests."""

from __future__ import annotations

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from ehrlich.errors import InvalidInput
from ehrlich.subjects.normalize import normalise_email, normalise_phone

atom = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
local = st.lists(atom, min_size=1, max_size=3).map(".".join)
domain = st.tuples(st.lists(atom, min_size=1, max_size=3).map(".".join),
                   st.sampled_from(["com", "org", "de", "info", "museum"])).map(".".join)
emails = st.tuples(local, domain).map("@".join)


@given(emails, st.text(alphabet=" \t", max_size=3))
def test_normalising_is_idempotent_and_ignores_case_and_padding(email: str, pad: str) -> None:
    once = normalise_email(email)
    assert normalise_email(once) == once
    assert normalise_email(pad + email.upper() + pad) == once
    assert once == email.lower()


@given(st.text(max_size=60))
def test_anything_either_normalises_or_fails_naming_the_field(text: str) -> None:
    try:
        result = normalise_email(text, field="contact.email")
    except InvalidInput as exc:
        problem = exc.problems[0]
    else:
        assert "@" in result
        assert result == result.strip()
        return
    assert problem.field == "contact.email"


def test_plus_tags_and_dots_are_kept_apart() -> None:
    assert normalise_email("a.b+news@example.org") != normalise_email("ab@example.org")


def test_internationalised_domain_is_idna_encoded() -> None:
    assert normalise_email("Jörg@Bücher.DE") == "jörg@xn--bcher-kva.de"


@pytest.mark.parametrize("bad", ["", "plain", "a@", "@b.org", "a b@c.org", "a@b@c.org",
                                 "0@00--0.aa"])
def test_invalid_addresses_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput):
        normalise_email(bad)


@given(st.integers(min_value=1000000, max_value=99999999))
def test_phone_spellings_agree(number: int) -> None:
    plain = f"+4930{number}"
    assume(len(plain) <= 15)
    spaced = f"+49 30 {number}"
    try:
        expected = normalise_phone(plain, region=None)
    except InvalidInput:
        return
    assert normalise_phone(spaced, region=None) == expected
    assert normalise_phone(f"030 {number}", region="DE") == expected


def test_phone_without_country_code_needs_a_region() -> None:
    with pytest.raises(InvalidInput, match="phone"):
        normalise_phone("030 1234567", region=None)


def _slow_email(text: str) -> str | None:
    from email_validator import EmailNotValidError, validate_email

    try:
        r = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return None
    return f"{r.local_part.lower()}@{r.ascii_domain.lower()}"


ascii_email_like = st.from_regex(
    r"\A[A-Za-z0-9._%+!#'-]{1,20}@([A-Za-z0-9-]{1,12}\.){1,3}[A-Za-z]{2,8}\Z")


@given(st.one_of(ascii_email_like, st.text(alphabet="aB0.-_+@", max_size=30)))
def test_fast_email_path_agrees_with_email_validator(text: str) -> None:
    from ehrlich.subjects.normalize import _plain_email

    fast = _plain_email(text)
    if fast is not None:
        assert fast == _slow_email(text)


@given(st.from_regex(r"\A\+[1-9][0-9]{6,14}\Z"), st.sampled_from(["", " ", "-"]))
@example("+2612000000", "")  # Madagascar: the full parser rewrites 2000000 as 202000000
@example("+12125550", " ")  # a 7-digit NANP number: the full parser adds an area code
def test_fast_phone_path_agrees_with_full_parser(digits: str, sep: str) -> None:
    import phonenumbers

    from ehrlich.subjects.normalize import _international_phone

    spaced = digits[:3] + sep + digits[3:]
    fast = _international_phone(spaced)
    if fast is None:
        return
    parsed = phonenumbers.parse(spaced, None)
    assert phonenumbers.is_possible_number(parsed)
    assert fast == phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
