"""The one place that picks the key provider from the settings.

`key_provider = "file"`: the KEKs are in the key file. `"pkcs11"`: they are in
a PKCS#11 token and the key file holds only the index, audit and token keys.
Every failure here (token missing, wrong PIN, no KEK) is a `ConfigurationError`
raised before the caller writes anything.
"""

from __future__ import annotations

import stat

from ehrlich.crypto.keyfile import KeyMaterial, create_key_file, read_key_file
from ehrlich.crypto.keyring import FileKeyProvider, KeyProvider, Keyring
from ehrlich.errors import ConfigurationError
from ehrlich.settings import Settings


def _keyring(provider: KeyProvider, material: KeyMaterial) -> Keyring:
    return Keyring(provider, index_key=material.index_key, audit_key=material.audit_key,
                   token_key=material.token_key)


def _pin(settings: Settings) -> str:
    if settings.pkcs11_pin is not None:
        return settings.pkcs11_pin.get_secret_value()
    path = settings.pkcs11_pin_file
    if path is None:
        raise ConfigurationError(
            'key_provider = "pkcs11" needs the token\'s user PIN: set pkcs11_pin_file '
            "(a file of mode 0600) or EHRLICH_PKCS11_PIN")
    try:
        mode = path.stat().st_mode
        text = path.read_text()
    except OSError as exc:
        raise ConfigurationError(f"pkcs11_pin_file {path} cannot be read ({exc.strerror})"
                                 ) from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(f"pkcs11_pin_file {path} is readable by other users; "
                                 f"run `chmod 600 {path}`")
    return text.rstrip("\r\n")


def _pkcs11_provider(settings: Settings) -> KeyProvider:
    if settings.pkcs11_module is None or settings.pkcs11_token_label is None:
        raise ConfigurationError(
            'key_provider = "pkcs11" needs pkcs11_module (EHRLICH_PKCS11_MODULE, the '
            "token's library) and pkcs11_token_label (EHRLICH_PKCS11_TOKEN_LABEL)")
    pin = _pin(settings)
    try:
        from ehrlich.crypto.pkcs11_provider import Pkcs11KeyProvider
    except ImportError as exc:
        raise ConfigurationError('key_provider = "pkcs11" needs python-pkcs11: '
                                 "pip install 'ehrlich[hsm]'") from exc
    return Pkcs11KeyProvider(module=settings.pkcs11_module,
                             token_label=settings.pkcs11_token_label, pin=pin,
                             key_label=settings.pkcs11_key_label)


def open_keyring(settings: Settings) -> Keyring:
    """The keyring of an existing instance, from its key file and (maybe) its token."""
    if settings.key_provider == "file":
        return Keyring.from_key_file(settings.key_file)
    material = read_key_file(settings.key_file, keks=False)
    provider = _pkcs11_provider(settings)
    if not provider.versions():
        provider.close()
        raise ConfigurationError(
            f"{provider.location} holds no KEK: connect the token that belongs to this "
            "instance, or check pkcs11_token_label and pkcs11_key_label")
    return _keyring(provider, material)


def create_keyring(settings: Settings) -> Keyring:
    """Write a new key file and, with a token, make KEK version 1 in it.

    The token is checked first, so a wrong PIN or a token already holding
    KEKs under the label changes nothing.
    """
    if settings.key_provider == "file":
        material = create_key_file(settings.key_file)
        return _keyring(FileKeyProvider(settings.key_file, material), material)
    provider = _pkcs11_provider(settings)
    try:
        if provider.versions():
            raise ConfigurationError(
                f"{provider.location} already holds KEKs; refusing to reuse them for a new "
                "instance (choose another pkcs11_key_label or token)")
        material = create_key_file(settings.key_file, keks=False)
        provider.activate(provider.add_version())
    except BaseException:
        provider.close()
        raise
    return _keyring(provider, material)


def config_values(settings: Settings) -> dict[str, str]:
    """The key provider settings `ehrlich init` writes to the instance's TOML (never
    the PIN itself)."""
    if settings.key_provider == "file":
        return {}
    values = {"key_provider": settings.key_provider,
              "pkcs11_module": str(settings.pkcs11_module),
              "pkcs11_token_label": str(settings.pkcs11_token_label),
              "pkcs11_key_label": settings.pkcs11_key_label}
    if settings.pkcs11_pin_file is not None:
        values["pkcs11_pin_file"] = str(settings.pkcs11_pin_file.absolute())
    return values
