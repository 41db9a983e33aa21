"""Optional DKIM signing (dkimpy), relaxed/relaxed, RSA-SHA256.

`h=` lists the identity and one-click headers present in the message, so a
relay cannot add or alter List-Unsubscribe without breaking the signature. dkimpy (and
the DNS and NaCl libraries it brings, about 17 MiB) is imported when a message is signed,
not by every process that registers the mail jobs.
"""

from __future__ import annotations

from pathlib import Path

from ehrlich.crypto.dkim_keys import dkim_dns_record
from ehrlich.errors import ConfigurationError
from ehrlich.settings import Settings

SIGNED_HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe",
                  "List-Unsubscribe-Post", "MIME-Version", "Content-Type")


class DkimSigner:
    def __init__(self, private_key_pem: bytes, *, selector: str, domain: str) -> None:
        self._key = private_key_pem
        self.selector = selector
        self.domain = domain

    @classmethod
    def from_settings(cls, settings: Settings) -> DkimSigner | None:
        given = [settings.dkim_key_file, settings.dkim_selector, settings.dkim_domain]
        if not any(given):
            return None
        if not all(given):
            raise ConfigurationError("DKIM needs all of EHRLICH_DKIM_KEY_FILE, "
                                     "EHRLICH_DKIM_SELECTOR and EHRLICH_DKIM_DOMAIN")
        path = Path(str(settings.dkim_key_file))
        try:
            key = path.read_bytes()
        except OSError as exc:
            raise ConfigurationError(f"DKIM key file {path} cannot be read: {exc}") from exc
        return cls(key, selector=str(settings.dkim_selector), domain=str(settings.dkim_domain))

    @property
    def dns_name(self) -> str:
        """Where receivers look the public key up."""
        return f"{self.selector}._domainkey.{self.domain}"

    def dns_record(self) -> str:
        """The TXT record to publish at `dns_name`."""
        return dkim_dns_record(self._key)

    def aligned_with(self, address: str) -> bool:
        """Whether mail from `address` aligns with this key's domain as DMARC's relaxed
        mode asks: one domain is the other or lies below it. (Two sibling subdomains
        may align too; telling needs the public suffix list, so they count as not.)"""
        sender = address.rsplit("@", 1)[-1].lower().rstrip(".")
        domain = self.domain.lower().rstrip(".")
        return (sender == domain or sender.endswith("." + domain)
                or domain.endswith("." + sender))

    def sign(self, message: bytes) -> bytes:
        """The message with a DKIM-Signature header in front."""
        import dkim

        head = message.split(b"\r\n\r\n", 1)[0].lower()
        present = [h for h in SIGNED_HEADERS
                   if head.startswith(h.lower().encode() + b":")
                   or b"\r\n" + h.lower().encode() + b":" in head]
        try:
            signature = dkim.sign(message, self.selector.encode(), self.domain.encode(),
                                  self._key, canonicalize=(b"relaxed", b"relaxed"),
                                  include_headers=[h.encode() for h in present])
        except dkim.DKIMException as exc:
            raise ConfigurationError(f"DKIM signing failed: {exc}") from exc
        return bytes(signature) + message
