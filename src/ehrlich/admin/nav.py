"""The console's navigation: domain pages register an entry; each shows only to roles
with its permission. A domain adds its page in its `install` (`add_console_page`)."""

from __future__ import annotations

from dataclasses import dataclass

from ehrlich.auth.roles import Permission, Role, allowed


@dataclass(frozen=True)
class NavEntry:
    path: str
    label: str
    """In English, marked with `N_` for the catalogue; the page shows it translated."""
    permission: Permission | None = None

    def visible_to(self, role: Role | str) -> bool:
        return self.permission is None or allowed(role, self.permission)


class Navigation:
    def __init__(self) -> None:
        self._entries: list[NavEntry] = []

    def add(self, entry: NavEntry) -> None:
        if any(e.path == entry.path for e in self._entries):
            raise ValueError(f"a console page is already registered at {entry.path}")
        self._entries.append(entry)

    def for_role(self, role: Role | str) -> list[NavEntry]:
        return [e for e in self._entries if e.visible_to(role)]
