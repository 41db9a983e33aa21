"""The effective settings as the console shows them: every value that is not a secret,
and for each secret only whether it is set.

Secrets are `SecretStr` fields (shown as set / not set, never their value) and the
passwords a URL may carry (`postgresql://user:PASSWORD@host/db`, a Redis URL, query
parameters such as `?password=`), which are replaced by `***`. Everything else is shown
exactly as configured: the URL is masked by cutting out the secret, never taken apart and
put together again (that turns `sqlite:////abs/path` into `sqlite://abs/path`). A setting
left unset that the product fills in (the database beside the data directory, backups
beside it) shows the value in use, marked as the default. Key files are shown by their
path; nothing here reads a file."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote_plus

from pydantic import SecretStr

from ehrlich.backup.keys import default_identity_path, default_signing_key_path
from ehrlich.settings import Settings

MASK = "***"
ENV_PREFIX = str(Settings.model_config.get("env_prefix", ""))
_SECRET_WORDS = ("pass", "secret", "token", "key", "pin", "auth", "signature")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_SCHEME_ANYWHERE = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s,]*")

Kind = Literal["value", "default", "secret_set", "secret_unset", "unset"]

# Defaults the product computes outside `Settings` (the `effective_*` properties are
# found by name): what the setting is when left unset.
_DEFAULTS: dict[str, Callable[[Settings], object]] = {
    "backup_identity": lambda s: default_identity_path(s.key_file),
    "backup_signing_key": lambda s: default_signing_key_path(s.key_file),
}


@dataclass(frozen=True)
class SettingRow:
    name: str
    kind: Kind
    value: str = ""

    @property
    def variable(self) -> str:
        """The environment variable that sets it (the file takes the name itself)."""
        return f"{ENV_PREFIX}{self.name.upper()}"


def _password_span(rest: str) -> tuple[int, int] | None:
    """Where the password of `user:password@host…` starts and ends in `rest` (the URL
    after `scheme://`), or None when it carries none.

    Readers disagree where the user part ends: RFC 3986 (urllib, redis) takes the last
    `@` before the first `/`, `?` or `#`; SQLAlchemy reads `u:pa/ss@host` as the password
    `pa/ss`, and a password with a raw `@` and `?` leaves both guessing. So when the
    authority has a `user:`, everything from there to the last `@` of the URL is taken
    as the password, fail closed: what any reader could take for it is hidden (an `@` in
    such a URL's path or query hides more than the password)."""
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    candidates = [rest[:rest.rindex("@")]] if "@" in rest and ":" in authority else []
    if "@" in authority:
        candidates.append(authority[:authority.rindex("@")])
    for userinfo in candidates:
        _, colon, password = userinfo.partition(":")
        if colon and password:
            return userinfo.index(":") + 1, len(userinfo)
    return None  # none, a user name alone (`sftp://backup@host`), or an empty password


def _mask_query(query: str) -> str:
    """`query` with the value of every parameter whose name says secret replaced."""
    pairs = []
    for pair in query.split("&"):
        name, equals, _ = pair.partition("=")
        secret = equals and any(w in unquote_plus(name).lower() for w in _SECRET_WORDS)
        pairs.append(f"{name}={MASK}" if secret else pair)
    return "&".join(pairs)


def mask_url(value: str) -> str:
    """The URL as given, with any password in its user part or query replaced by `***`."""
    scheme = _SCHEME.match(value)
    if scheme is None:
        return value
    head, rest = value[:scheme.end()], value[scheme.end():]
    span = _password_span(rest)
    if span is not None:
        rest = rest[:span[0]] + MASK + rest[span[1]:]
        after = span[0] + len(MASK) + 1  # past the `@`: the query is in what follows
    else:
        after = 0
    before_fragment, hash_sign, fragment = rest[after:].partition("#")
    path, question, query = before_fragment.partition("?")
    if question:
        before_fragment = f"{path}?{_mask_query(query)}"
    return head + rest[:after] + before_fragment + hash_sign + fragment


def _effective(settings: Settings, name: str) -> object:
    """What the product uses for `name` when it is left unset (None: nothing)."""
    if isinstance(getattr(type(settings), f"effective_{name}", None), property):
        return getattr(settings, f"effective_{name}")
    default = _DEFAULTS.get(name)
    return default(settings) if default is not None else None


def _text(value: object) -> str:
    text = ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
    if _SCHEME.match(text):
        return mask_url(text)
    # a list with URLs in it: each masked on its own
    return _SCHEME_ANYWHERE.sub(lambda url: mask_url(url.group()), text)


def _shown(name: str, value: object, *, secret: bool, default: object = None) -> SettingRow:
    if secret or isinstance(value, SecretStr):
        filled = isinstance(value, SecretStr) and bool(value.get_secret_value())
        return SettingRow(name, "secret_set" if filled else "secret_unset")
    if value is None or value == "":
        if default is None or default == "":
            return SettingRow(name, "unset")
        return SettingRow(name, "default", _text(default))
    return SettingRow(name, "value", _text(value))


def settings_rows(settings: Settings) -> list[SettingRow]:
    """Every setting in declaration order; one left unset shows the default in effect."""
    return [_shown(name, getattr(settings, name), secret="SecretStr" in str(info.annotation),
                   default=_effective(settings, name))
            for name, info in type(settings).model_fields.items()]
