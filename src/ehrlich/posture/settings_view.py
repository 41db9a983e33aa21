"""The effective settings as the console shows them: every value that is not a secret,
and for each secret only whether it is set.

Secrets are `SecretStr` fields (shown as set / not set, never their value) and the
passwords a URL may carry (`postgresql://user:PASSWORD@host/db`, a Redis URL, query
parameters such as `?password=`), which are replaced by `***`. Key files are shown by
their path; nothing here reads a file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import SecretStr

from ehrlich.settings import Settings

MASK = "***"
ENV_PREFIX = str(Settings.model_config.get("env_prefix", ""))
_SECRET_WORDS = ("pass", "secret", "token", "key", "pin", "auth", "signature")

Kind = Literal["value", "secret_set", "secret_unset", "unset"]


@dataclass(frozen=True)
class SettingRow:
    name: str
    kind: Kind
    value: str = ""

    @property
    def variable(self) -> str:
        """The environment variable that sets it (the file takes the name itself)."""
        return f"{ENV_PREFIX}{self.name.upper()}"


def mask_url(value: str) -> str:
    """The URL with any password in its user part or query replaced by `***`."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return MASK  # not a URL we can take apart: show nothing of it
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        netloc = f"{user}:{MASK}@{host}" if colon else netloc
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, MASK if any(w in k.lower() for w in _SECRET_WORDS) else v)
                           for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _shown(name: str, value: object, *, secret: bool) -> SettingRow:
    if secret or isinstance(value, SecretStr):
        filled = isinstance(value, SecretStr) and bool(value.get_secret_value())
        return SettingRow(name, "secret_set" if filled else "secret_unset")
    if value is None or value == "":
        return SettingRow(name, "unset")
    text = ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
    if "://" in text:
        text = mask_url(text)
    return SettingRow(name, "value", text)


def settings_rows(settings: Settings) -> list[SettingRow]:
    """Every setting in declaration order, the database URL as it is in effect."""
    rows = []
    for name, info in type(settings).model_fields.items():
        value = getattr(settings, name)
        if name == "database_url":
            value = settings.effective_database_url
        rows.append(_shown(name, value, secret="SecretStr" in str(info.annotation)))
    return rows
