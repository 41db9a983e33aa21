"""The posture domain's own checks: keys, secrets, HTTPS, proxies and the audit chain."""

from __future__ import annotations

from ehrlich.posture import checks
from ehrlich.registry import Registry


def install(registry: Registry) -> None:
    for check in (checks.key_file, checks.default_secrets, checks.https, checks.trusted_proxies,
                  checks.audit_chain):
        registry.add_check(check)
