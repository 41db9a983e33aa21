"""The console's settings page: every setting by its name and variable, secrets never
shown, URLs as configured with only their passwords masked, and the value in effect for a
setting left unset (the same one the rest of the product uses)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from urllib.parse import quote

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from ehrlich.backup.service import BackupService
from ehrlich.instance.service import Instance
from ehrlich.posture.settings_view import SettingRow, mask_url, settings_rows
from tests.auth.conftest import (  # noqa: F401 - fixtures used by name
    Clock,
    clock,
    console,
    instance,
    mail,
    open_session,
    settings,
)
from tests.factories import Staff

Maker = Callable[..., Staff]


def test_settings_show_values_but_never_secrets(
        console: TestClient, make_staff: Maker, clock: Clock, instance: Instance) -> None:  # noqa: F811
    from pydantic import SecretStr
    secret_settings = instance.settings.model_copy(update={
        "smtp_password": SecretStr("hunter2-smtp"), "smtp_host": "mail.example.org",
        "redis_url": "redis://:redis-pass-77@127.0.0.1:6379/0",
        "backup_scratch_database_url": "postgresql://u:pg-pass-55@db/x?sslpassword=ssl-66",
        "backup_recipients": ["age1abc", "sftp://u:list-pass-88@h/x"]})
    rows = {r.name: r for r in settings_rows(secret_settings)}
    assert rows["smtp_password"].kind == "secret_set"
    assert rows["unsubscribe_imap_password"].kind == "secret_unset"
    assert rows["redis_url"].value == "redis://:***@127.0.0.1:6379/0"
    assert "pg-pass-55" not in rows["backup_scratch_database_url"].value
    assert "ssl-66" not in rows["backup_scratch_database_url"].value
    assert rows["backup_recipients"].value == "age1abc, sftp://u:***@h/x"
    assert rows["key_file"].value == str(instance.settings.key_file)
    assert mask_url("sftp://backup@host/srv") == "sftp://backup@host/srv"

    console.app.state.instance = replace(instance, settings=secret_settings)  # type: ignore[attr-defined]
    open_session(console, make_staff("auditor"), clock.now)
    page = console.get("/admin/settings")
    assert page.status_code == 200
    for secret in ("hunter2-smtp", "redis-pass-77", "pg-pass-55", "ssl-66", "list-pass-88"):
        assert secret not in page.text
    assert "mail.example.org" in page.text
    # each by its name in the file and the environment variable that sets it
    assert ('<span class="mono setting-name">smtp_host</span><br>'
            '<small class="hint mono">EHRLICH_SMTP_HOST</small>') in page.text
    key = instance.settings.key_file.read_text()
    assert key.strip()
    assert key.strip() not in page.text


def test_settings_show_the_defaults_in_effect_and_urls_as_configured(
        console: TestClient, make_staff: Maker, clock: Clock, instance: Instance) -> None:  # noqa: F811
    unset = instance.settings.model_copy(update={"database_url": "", "backup_destination": ""})
    rows = {r.name: r for r in settings_rows(unset)}
    # the absolute path keeps its four slashes (urlunsplit dropped the empty host)
    assert rows["database_url"].value == unset.effective_database_url
    assert rows["database_url"].value.startswith("sqlite:////")
    assert rows["database_url"].kind == "default"
    data_dir = unset.data_dir.absolute()
    assert rows["backup_destination"] == SettingRow(
        "backup_destination", "default", str(data_dir.parent / "backups"))
    backups = BackupService(unset, instance.db, instance.subjects, instance.ledger,
                            instance.audit)
    assert rows["backup_destination"].value == backups.destination  # as the Backups page
    assert rows["maintenance_file"].value == str(data_dir / "maintenance")
    assert rows["backup_signing_key"].kind == "default"
    assert rows["smtp_host"].kind == "unset"  # no default in effect: said so
    configured = {r.name: r for r in settings_rows(unset.model_copy(
        update={"backup_destination": "sftp://backup@host/srv"}))}
    assert configured["backup_destination"] == SettingRow(
        "backup_destination", "value", "sftp://backup@host/srv")

    console.app.state.instance = replace(instance, settings=unset)  # type: ignore[attr-defined]
    open_session(console, make_staff("auditor"), clock.now)
    page = console.get("/admin/settings")
    assert page.status_code == 200
    row = page.text.split('id="setting-backup_destination"')[1].split("</tr>")[0]
    assert str(data_dir.parent / "backups") in row
    assert "(default)" in row
    assert "(default: unset)" not in row


_USER = st.text("abcdefghijklmnopqrstuvwxyz0123456789._-", max_size=8)
_HOST = st.from_regex(r"[a-z][a-z0-9-]{0,10}(\.[a-z]{2,4})?(:[0-9]{1,5})?", fullmatch=True)
_PATH = st.from_regex(r"(/[A-Za-z0-9._~:-]{0,8}){0,4}", fullmatch=True)
_QUERY = st.lists(st.tuples(st.sampled_from(["sslmode", "db", "timeout", "region", "x"]),
                            st.text("abc123-._", max_size=6)), max_size=3).map(
    lambda pairs: "?" + "&".join(f"{k}={v}" for k, v in pairs) if pairs else "")
_SCHEMES = st.sampled_from(["sqlite", "postgresql+psycopg", "redis", "sftp", "s3", "file"])
# what a password may be, percent-encoded or not: SQLAlchemy takes `/`, `?` and `#` raw
_PASSWORD = st.text("ABCXYZ0123456789!$%&'()*+,;=/?#[]@~", min_size=1, max_size=12)


@given(scheme=_SCHEMES, user=_USER, host=_HOST, path=_PATH, query=_QUERY,
       with_user=st.booleans())
def test_a_url_without_a_password_is_shown_as_configured(
        scheme: str, user: str, host: str, path: str, query: str, with_user: bool) -> None:
    url = f"{scheme}://{user + '@' if with_user else ''}{host}{path}{query}"
    assert mask_url(url) == url
    assert mask_url(f"sqlite:///{path}") == f"sqlite:///{path}"


@given(scheme=_SCHEMES, user=_USER, password=_PASSWORD, host=_HOST, path=_PATH, query=_QUERY)
def test_a_password_never_shows_and_everything_else_does(
        scheme: str, user: str, password: str, host: str, path: str, query: str) -> None:
    shown = mask_url(f"{scheme}://{user}:{password}@{host}{path}{query}")
    assert shown == f"{scheme}://{user}:***@{host}{path}{query}"
    encoded = quote(password, safe="")  # in a query it must be: `&` or `#` would end it
    in_query = mask_url(f"{scheme}://{host}{path}?sslmode=require&PassWord={encoded}")
    assert in_query == f"{scheme}://{host}{path}?sslmode=require&PassWord=***"
