"""Crypto recipes: field encryption, data-key wrapping, blind indexes, tokens.

Only `ehrlich.crypto._primitives` imports `cryptography.hazmat`.
"""

from ehrlich.crypto.blind_index import blind_index
from ehrlich.crypto.envelope import FieldContext, key_version
from ehrlich.crypto.fields import FieldCipher, decrypt_field, encrypt_field
from ehrlich.crypto.keyring import FileKeyProvider, KeyProvider, Keyring
from ehrlich.crypto.signing import SignatureInvalid, SigningKey, verify_signature
from ehrlich.crypto.tokens import (
    TokenClaims,
    TokenExpired,
    TokenInvalid,
    sign_token,
    token_signer,
    verify_token,
)

__all__ = [
    "FieldCipher",
    "FieldContext",
    "FileKeyProvider",
    "KeyProvider",
    "Keyring",
    "SignatureInvalid",
    "SigningKey",
    "TokenClaims",
    "TokenExpired",
    "TokenInvalid",
    "blind_index",
    "decrypt_field",
    "encrypt_field",
    "key_version",
    "sign_token",
    "token_signer",
    "verify_signature",
    "verify_token",
]
