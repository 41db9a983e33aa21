"""What a killed backup run leaves behind, and how a later run knows it is stale."""

from __future__ import annotations

import os
from datetime import timedelta

from ehrlich.backup.interfaces import TEMP_PREFIX

STALE_AFTER = timedelta(hours=1)
"""A temporary file on a remote store untouched this long was left by a killed run."""


def pid_is_gone(name: str) -> bool:
    """Whether the process that named a `.partial-PID-...` file on this host has ended."""
    pid = name.removeprefix(TEMP_PREFIX).split("-", 1)[0]
    if not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
