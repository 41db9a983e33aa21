"""Settings precedence and errors that name the setting."""

from __future__ import annotations

from pathlib import Path

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
