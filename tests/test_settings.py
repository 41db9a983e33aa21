"""Settings precedence and errors that name the setting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ehrlich.errors import ConfigurationError
from ehrlich.settings import load_settings


def test_overrides_beat_environment_beat_file(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "ehrlich.toml"
    config.write_text('port = 9001\nhost = "0.0.0.0"\nbase_url = "https://file.example"\n')
    monkeypatch.setenv("EHRLICH_PORT", "9002")
    settings = load_settings(config, host="127.0.0.2")
    assert (settings.host, settings.port, settings.base_url) == (
        "127.0.0.2", 9002, "https://file.example")


@pytest.mark.parametrize(("overrides", "env", "expected"), [
    ({}, {}, "http://127.0.0.1:8000"),
    ({"port": 8101}, {}, "http://127.0.0.1:8101"),  # `serve --port 8101`
    ({}, {"EHRLICH_PORT": "8102"}, "http://127.0.0.1:8102"),
    ({"host": "0.0.0.0", "port": 9000}, {}, "http://127.0.0.1:9000"),  # noqa: S104
    ({"host": "::1"}, {}, "http://[::1]:8000"),
    ({"port": 8101}, {"EHRLICH_BASE_URL": "https://shop.example"}, "https://shop.example"),
    ({"port": 8101, "base_url": "https://shop.example"}, {}, "https://shop.example"),
])
def test_links_follow_where_serve_listens_unless_base_url_is_set(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, overrides: dict[str, Any],
        env: dict[str, str], expected: str) -> None:
    for name in ("EHRLICH_PORT", "EHRLICH_HOST", "EHRLICH_BASE_URL", "EHRLICH_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert load_settings(data_dir=tmp_path, **overrides).base_url == expected


def test_config_file_found_in_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "ehrlich.toml").write_text("port = 9100\n")
    monkeypatch.delenv("EHRLICH_CONFIG", raising=False)
    assert load_settings(data_dir=tmp_path / "d").port == 9100


@pytest.mark.parametrize(("content", "name"), [
    ("port = 70000\n", "port"),
    ('database_url = "mysql://x"\n', "database_url"),
    ("colour = 1\n", "colour"),
])
def test_invalid_values_name_the_setting(tmp_path: Path, content: str, name: str) -> None:
    config = tmp_path / "ehrlich.toml"
    config.write_text(content)
    with pytest.raises(ConfigurationError, match=name):
        load_settings(config)


def test_missing_explicit_config_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="ehrlich init"):
        load_settings(tmp_path / "absent.toml")


def test_postgres_urls_use_psycopg(tmp_path: Path) -> None:
    settings = load_settings(database_url="postgresql://u@h:5432/db", data_dir=tmp_path)
    assert settings.effective_database_url == "postgresql+psycopg://u@h:5432/db"
    assert not settings.is_sqlite
