"""The console's navigation: domain pages register an entry; each shows only to roles
with its permission. A domain adds its page in its `install` (`add_console_page`).

Twenty pages in one row are hard to scan, so each entry names the group it belongs to
(what people do there: work with people's data, market, keep the promises of the notice,
run the instance); the console shows the groups in `GROUPS` order, each labelled."""

from __future__ import annotations

from dataclasses import dataclass

from ehrlich.auth.roles import Permission, Role, allowed
from ehrlich.i18n import N_

PEOPLE = N_("People")
MARKETING = N_("Marketing")
PRIVACY = N_("Privacy")
ADMINISTRATION = N_("Administration")
GROUPS = ("", PEOPLE, MARKETING, PRIVACY, ADMINISTRATION)
"""In this order; "" holds the entries without a group (Overview, Account), shown first
and unlabelled. A group a plugin names that is not here follows these."""


@dataclass(frozen=True)
class NavEntry:
    path: str
    label: str
    """In English, marked with `N_` for the catalogue; the page shows it translated."""
    permission: Permission | None = None
    group: str = ""
    """One of `GROUPS` (or a plugin's own label, marked with `N_`)."""

    def visible_to(self, role: Role | str) -> bool:
        return self.permission is None or allowed(role, self.permission)

    def is_current(self, path: str) -> bool:
        """Whether `path` is this entry's page or one below it (a person, a campaign)."""
        return path == self.path or (self.path != "/admin" and path.startswith(self.path + "/"))


@dataclass(frozen=True)
class NavGroup:
    label: str
    entries: tuple[NavEntry, ...]


class Navigation:
    def __init__(self) -> None:
        self._entries: list[NavEntry] = []

    def add(self, entry: NavEntry) -> None:
        if any(e.path == entry.path for e in self._entries):
            raise ValueError(f"a console page is already registered at {entry.path}")
        self._entries.append(entry)

    def for_role(self, role: Role | str) -> list[NavEntry]:
        return [e for e in self._entries if e.visible_to(role)]

    def groups_for_role(self, role: Role | str) -> list[NavGroup]:
        """The entries `role` may see, by group in `GROUPS` order; empty groups left out."""
        visible = self.for_role(role)
        labels = [*GROUPS, *dict.fromkeys(e.group for e in visible if e.group not in GROUPS)]
        found = (NavGroup(label, tuple(e for e in visible if e.group == label))
                 for label in labels)
        return [group for group in found if group.entries]
