"""Backups: encrypted, verified, scheduled, restorable with standard tools.

An archive is `tar` (the database dump, then `manifest.json`) compressed with
zstd and encrypted with age to two recipients: the operations key and an
offline recovery key. Beside it, written last, a plaintext `.manifest.json`
sidecar marks the archive complete and carries its size and SHA-256.
"""
