"""Typed settings, read once at start-up.

Precedence, highest first: values passed in code (CLI options), `EHRLICH_*`
environment variables, the instance's TOML file (written by `ehrlich init`),
defaults. Nothing here is read at import time.
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from ehrlich.errors import ConfigurationError

DEFAULT_DATA_DIR = Path(".ehrlich/data")
DEFAULT_KEY_FILE = Path(".ehrlich/keys/ehrlich.key")
CONFIG_FILE_NAME = "ehrlich.toml"

_toml_file: contextvars.ContextVar[Path | None] = contextvars.ContextVar(
    "ehrlich_toml_file", default=None
)


class Settings(BaseSettings):
    """Everything an ehrlich process needs to know about its instance."""

    model_config = SettingsConfigDict(env_prefix="EHRLICH_", extra="forbid")

    data_dir: Path = DEFAULT_DATA_DIR
    key_file: Path = DEFAULT_KEY_FILE
    database_url: str = ""
    # The erasure ledger's own database (docs/deploy.md): default DATA_DIR/ledger.sqlite3;
    # with several hosts one PostgreSQL database apart from database_url.
    ledger_url: str = ""
    erasure_ledger: Path | None = Field(
        default=None, description="The file ledger of earlier versions: moved into the "
        "ledger database at first start and renamed *.migrated")
    redis_url: str | None = None
    base_url: str = Field(default="http://127.0.0.1:8000", description="Where people reach "
                          "this instance: the links in mails and exports. Unset: where "
                          "`serve` listens (host and port)")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    key_rotation_batch: int = Field(default=1000, ge=1)
    # Where the KEKs live (docs/security-model.md#key-providers): the key file, or a
    # PKCS#11 token (an HSM; SoftHSM2 for trials). The other keys stay in key_file.
    key_provider: Literal["file", "pkcs11"] = "file"
    pkcs11_module: Path | None = Field(
        default=None, description="The token's PKCS#11 library, e.g. "
        "/usr/lib/softhsm/libsofthsm2.so")
    pkcs11_token_label: str | None = Field(default=None, min_length=1, max_length=32)
    pkcs11_key_label: str = Field(
        default="ehrlich-kek", min_length=1, max_length=24, pattern=r"^[A-Za-z0-9._-]+$",
        description="Prefix of the KEK objects' labels on the token (PREFIX-1, PREFIX-2 …)")
    pkcs11_pin: SecretStr | None = Field(default=None, description="The token's user PIN; "
                                         "prefer pkcs11_pin_file or EHRLICH_PKCS11_PIN")
    pkcs11_pin_file: Path | None = Field(
        default=None, description="A file (mode 0600) holding the user PIN")
    inprocess_worker: bool = Field(
        default=True, description="`ehrlich serve` runs the job worker in its own process"
    )
    worker_threads: int = Field(default=2, ge=1, le=32)
    server_threads: int = Field(
        default=40, ge=1, le=1000, description="Requests one `serve` process works on at "
        "once (the thread pool its request handlers run in)")
    # The PostgreSQL connection pool of each process (docs/deploy.md#postgresql). A pool
    # smaller than the requests in flight closes and reopens connections all the time.
    database_pool_size: int | None = Field(
        default=None, ge=1, le=1000, description="Connections each process keeps open; "
        "unset: server_threads + worker_threads, one for everything that may run at once")
    database_max_overflow: int = Field(
        default=5, ge=0, le=1000, description="Connections opened beyond the pool at a "
        "peak, closed again when returned")
    database_pool_recycle: int = Field(
        default=1800, ge=-1, description="Seconds after which a pooled connection is "
        "replaced on its next checkout (instead of a ping at every checkout); -1: never")
    job_lease_seconds: float = Field(
        default=60, ge=1, le=3600, description="How long a job a worker took stays its own "
        "without a heartbeat (renewed every third of it): a job whose worker died runs again "
        "this long after its last heartbeat")
    redis_prefix: str = Field(default="ehrlich:", description="Prefix of every Redis key")
    trusted_proxies: str = Field(
        default="127.0.0.1", description="Comma-separated addresses of reverse proxies whose "
        "X-Forwarded-For/-Proto headers are believed (uvicorn --forwarded-allow-ips)")
    login_window_seconds: int = Field(default=900, ge=1)
    captcha_after_failures: int = Field(default=3, ge=1)
    captcha_base_number: int = Field(default=4000, ge=10)
    api_token_cache_seconds: float = Field(
        default=5.0, ge=0, le=300, description="How long a process trusts an API token it "
        "verified; a revoked token works on in other processes for at most this long (0: off)")
    initial_password_hours: int = Field(
        default=72, ge=1, le=24 * 30, description="How long a generated (initial or reset) "
        "staff password can be used before it must be replaced by `ehrlich user reset`")
    session_idle_minutes: int = Field(default=30, ge=1)
    session_absolute_hours: int = Field(default=12, ge=1)
    second_factor_for_all_roles: bool = Field(
        default=True, description="Require TOTP of every staff role (every role can read "
        "personal data); false asks it of owners and admins only, and `doctor` warns")
    phone_region: str | None = Field(
        default=None, description="Region for phone numbers written without +country code"
    )
    # Mail (docs/mail.md): SMTP is off while smtp_host is unset.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None
    smtp_return_path: str | None = Field(
        default=None, description="The envelope sender (MAIL FROM) of every mail, where "
        "delivery status notifications go, e.g. the bounce mailbox; unset: the address of "
        "smtp_from")
    smtp_tls: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_ca_file: Path | None = None
    smtp_timeout: float = Field(default=30.0, gt=0)
    mail_retries: int = Field(default=12, ge=0)
    mail_retry_delay: int = Field(default=30, ge=1)
    mail_unsubscribe_mailto: str | None = Field(
        default=None, description="Address for the mailto: in List-Unsubscribe; advertised "
        "only while unsubscribe_imap_host is set, so that someone reads it")
    # The mailbox behind that address (docs/mail.md): read every few minutes while set.
    unsubscribe_imap_host: str | None = None
    unsubscribe_imap_port: int | None = Field(default=None, ge=1, le=65535,
                                              description="Default 993 (ssl), else 143")
    unsubscribe_imap_username: str | None = None
    unsubscribe_imap_password: SecretStr | None = None
    unsubscribe_imap_folder: str = Field(default="INBOX", min_length=1)
    unsubscribe_imap_tls: Literal["ssl", "starttls", "none"] = "ssl"
    unsubscribe_imap_ca_file: Path | None = None
    unsubscribe_imap_done_folder: str | None = Field(
        default=None, min_length=1, description="Where handled requests are moved; unset: "
        "they are deleted")
    # Campaigns (docs/campaigns.md): how fast one worker sends, over how many connections.
    campaign_connections: int = Field(default=4, ge=1, le=64)
    campaign_rate: float = Field(default=100.0, ge=0, description="Messages per second "
                                 "for the whole worker; 0: as fast as the server takes them")
    campaign_domain_rate: float = Field(default=20.0, ge=0, description="Messages per "
                                        "second to one recipient domain; 0: no limit")
    campaign_webhook_secret: SecretStr | None = Field(
        default=None, description="whsec_ and base64 of a random key (Standard Webhooks): "
        "signs bounce and complaint notifications; the webhook answers 401 while unset")
    campaign_complaint_limit: float = Field(
        default=0.003, ge=0, le=1, description="A sending campaign pauses itself when its "
        "complaints exceed this share of the mail delivered (0.003: 0.3 %)")
    # The mailbox DSNs and ARF complaints arrive in (docs/campaigns.md): read every few
    # minutes while set; may be the unsubscribe mailbox (each reader leaves the other's mail).
    bounce_imap_host: str | None = None
    bounce_imap_port: int | None = Field(default=None, ge=1, le=65535,
                                         description="Default 993 (ssl), else 143")
    bounce_imap_username: str | None = None
    bounce_imap_password: SecretStr | None = None
    bounce_imap_folder: str = Field(default="INBOX", min_length=1)
    bounce_imap_tls: Literal["ssl", "starttls", "none"] = "ssl"
    bounce_imap_ca_file: Path | None = None
    bounce_imap_done_folder: str | None = Field(
        default=None, min_length=1, description="Where handled reports are moved; unset: "
        "they are deleted")
    maintenance_file: Path | None = None
    consent_confirm_days: int = Field(default=30, ge=1, description="Double opt-in link validity")
    consent_proof_years: int = Field(
        default=5, ge=1, le=30, description="Years the consent proof of an erased person is "
        "kept after its last event; the daily retention run then deletes it")
    dkim_key_file: Path | None = None
    dkim_selector: str | None = None
    dkim_domain: str | None = None
    # Signup and double opt-in (docs/consent.md).
    signup_origins: str = Field(
        default="", description="Space-separated origins (https://shop.example) that may "
        "frame /embed/signup and post the signup form cross-site")
    signup_per_hour: int = Field(default=20, ge=1, description="Signups per address and hour")
    signup_captcha_after: int = Field(default=3, ge=0,
                                      description="Signups per address and hour before the "
                                      "CAPTCHA is required")
    signup_no_script_per_hour: int = Field(
        default=5, ge=0, description="Signups per address and hour accepted without the "
        "CAPTCHA from browsers without JavaScript, once the CAPTCHA is required")
    signup_mails_per_recipient: int = Field(
        default=3, ge=1, description="Confirmation mails per recipient address and day, "
        "whatever the client")
    # Exports handed to staff are tracked copies (the copies register).
    copy_keep_days: int = Field(
        default=30, ge=1, le=366, description="Days an exported copy may be kept before it "
        "must be destroyed, unless the export states an earlier date")
    # Backups (see docs/backup.md): destination URL or directory, public age recipients.
    backup_destination: str = ""
    backup_recipients: list[str] = Field(default_factory=list)
    backup_identity: Path | None = None
    backup_schedule: str = "17 2 * * *"
    backup_keep: tuple[int, int, int] = (7, 4, 3)
    backup_ssh_key: Path | None = None
    backup_ssh_known_hosts: Path | None = None
    backup_scratch_database_url: str = ""
    # A second destination (ideally off-site: SFTP or S3); each backup goes to both.
    backup_second_destination: str = ""
    # Ed25519: the private key signs manifests (default beside the key file); the public
    # key, which `ehrlich init` writes into the configuration, checks them.
    backup_signing_key: Path | None = None
    backup_signing_public_key: str = ""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = _toml_file.get()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml))
        return tuple(sources)

    @field_validator("campaign_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        """`whsec_` + base64 of at least 16 bytes (Standard Webhooks), checked at start."""
        if value is None:
            return value
        encoded = value.get_secret_value().strip().removeprefix("whsec_")
        try:
            key = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) < 16:  # not a ValueError: pydantic would print the value it got
            raise ConfigurationError(
                "EHRLICH_CAMPAIGN_WEBHOOK_SECRET must be whsec_ followed by base64 of at "
                "least 16 random bytes; `ehrlich campaign webhook-secret` prints one")
        return value

    @model_validator(mode="after")
    def _base_url_follows_the_listener(self) -> Settings:
        """Without `base_url` set, the links in mails and exports point where `serve`
        listens, so a trial on another port gets links that open."""
        if "base_url" not in self.model_fields_set:
            everywhere = ("0.0.0.0", "::", "")  # noqa: S104 - listening on all: link to loopback
            host = "127.0.0.1" if self.host in everywhere else self.host
            host = f"[{host}]" if ":" in host else host
            self.base_url = f"http://{host}:{self.port}"
        return self

    @field_validator("database_url", "ledger_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value:
            return value
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        if value.startswith(("sqlite://", "postgresql+psycopg://")):
            return value
        raise ValueError("use sqlite:///PATH or postgresql://USER@HOST:PORT/DB")

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'ehrlich.db').absolute()}"

    @property
    def effective_ledger_url(self) -> str:
        if self.ledger_url:
            return self.ledger_url
        return f"sqlite:///{(self.data_dir / 'ledger.sqlite3').absolute()}"

    @property
    def effective_erasure_ledger(self) -> Path:
        return self.erasure_ledger or self.data_dir / "erasure-ledger.jsonl"

    @property
    def effective_maintenance_file(self) -> Path:
        return self.maintenance_file or self.data_dir / "maintenance"

    @property
    def effective_backup_destination(self) -> str:
        """The configured destination, else `backups` beside the data directory."""
        return self.backup_destination or str(self.data_dir.absolute().parent / "backups")

    @property
    def unsubscribe_mailto(self) -> str | None:
        """The mailto: address to advertise: only one whose mailbox ehrlich reads."""
        return self.mail_unsubscribe_mailto if self.unsubscribe_imap_host else None

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    @property
    def database_pool(self) -> dict[str, int]:
        """The engine's pool options on PostgreSQL (SQLite keeps its own pool)."""
        if self.is_sqlite:
            return {}
        size = self.database_pool_size or self.server_threads + self.worker_threads
        return {"pool_size": size, "max_overflow": self.database_max_overflow,
                "pool_recycle": self.database_pool_recycle}


def config_file_for(data_dir: Path) -> Path:
    return data_dir / CONFIG_FILE_NAME


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read the settings once: overrides, then environment, then the TOML file.

    Without an explicit file, `EHRLICH_CONFIG` names it; otherwise it is looked
    for in the data directory (from overrides, `EHRLICH_DATA_DIR` or the default).
    """
    if config_file is None and os.environ.get("EHRLICH_CONFIG"):
        config_file = Path(os.environ["EHRLICH_CONFIG"])
    if config_file is None:
        data_dir = overrides.get("data_dir") or os.environ.get("EHRLICH_DATA_DIR")
        candidate = config_file_for(Path(data_dir) if data_dir else DEFAULT_DATA_DIR)
        config_file = candidate if candidate.exists() else None
    elif not config_file.exists():
        raise ConfigurationError(
            f"configuration file {config_file} does not exist; "
            "run `ehrlich init` or point EHRLICH_CONFIG at the right file"
        )
    overrides = {k: v for k, v in overrides.items() if v is not None}
    token = _toml_file.set(config_file)
    try:
        return Settings(**overrides)
    except ValueError as exc:
        raise ConfigurationError(f"invalid configuration: {exc}") from exc
    finally:
        _toml_file.reset(token)
