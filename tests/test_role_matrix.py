"""The `role_matrix` marker (tests/conftest.py): the whole matrix on SQLite, each action
once on PostgreSQL, done by the first role allowed to do it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import pytest

from ehrlich.auth.roles import Role
from tests.conftest import role_matrix_on_postgresql

MAY = {"read": {Role.ADMIN, Role.AUDITOR}, "edit": {Role.ADMIN}, "nobody": set[Role]()}


@dataclass
class CallSpec:
    params: dict[str, Any]


@dataclass
class Item:
    """What the selection reads of a collected test."""

    nodeid: str
    callspec: CallSpec
    marker: pytest.Mark | None = field(default=None)

    def get_closest_marker(self, name: str) -> pytest.Mark | None:
        return self.marker if name == "role_matrix" else None


def matrix(allowed: Callable[..., bool] | None, *, test: str = "t.py::test_roles",
           role_values: Callable[[Role], object] = str) -> list[Item]:
    marker = None if allowed is None else pytest.mark.role_matrix(allowed).mark
    return [Item(f"{test}[{kind}-{action}-{role.value}]",
                 CallSpec({"database_kind": kind, "action": action, "role": role_values(role)}),
                 marker)
            for kind in ("sqlite", "postgresql") for action in MAY for role in Role]


def left_out(items: list[Item]) -> set[str]:
    return {item.nodeid for item in role_matrix_on_postgresql(cast(list[pytest.Item], items))}


def kept_on_postgresql(items: list[Item]) -> set[str]:
    return {i.nodeid for i in items if "postgresql" in i.nodeid} - left_out(items)


@pytest.mark.parametrize("role_values", [str, lambda role: role], ids=["str", "Role"])
def test_each_action_stays_once_on_postgresql_with_the_first_allowed_role(
        role_values: Callable[[Role], object]) -> None:
    items = matrix(lambda role, action, **_: role in MAY[action], role_values=role_values)
    assert kept_on_postgresql(items) == {
        "t.py::test_roles[postgresql-read-admin]",
        "t.py::test_roles[postgresql-edit-admin]",
        "t.py::test_roles[postgresql-nobody-owner]"}  # no role may: still run once
    assert not {i for i in left_out(items) if "sqlite" in i}


def test_unmarked_tests_and_other_tests_are_not_touched() -> None:
    assert left_out(matrix(None)) == set()
    items = matrix(lambda role, **_: True) + matrix(lambda role, **_: True, test="t.py::other")
    assert kept_on_postgresql(items) == {
        f"t.py::{test}[postgresql-{action}-owner]"
        for test in ("test_roles", "other") for action in MAY}


def test_a_matrix_without_a_role_is_a_usage_error() -> None:
    item = Item("t.py::test_x[postgresql]", CallSpec({"database_kind": "postgresql"}),
                pytest.mark.role_matrix(lambda **_: True).mark)
    with pytest.raises(pytest.UsageError, match="takes `role`"):
        role_matrix_on_postgresql(cast(list[pytest.Item], [item]))
