"""Read a notice file: YAML with line numbers, then the schema.

PyYAML's composer gives every node its position; we keep a map from each
path (`("purposes", 0, "title")`) to where it is written, so that schema
errors and lint findings can name file, line and column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import ValidationError

from ehrlich.notices.errors import NoticeInvalid
from ehrlich.notices.schemas import Finding, Notice, Path, reference_problems

# libyaml's parser when PyYAML was built with it (same nodes and marks, much faster).
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Position:
    line: int
    column: int
    style: str | None = None
    """The scalar's YAML style: None (plain), '"', "'", '|' or '>'."""


@dataclass
class Positions:
    keys: dict[Path, Position] = field(default_factory=dict)
    values: dict[Path, Position] = field(default_factory=dict)

    def of(self, path: Path) -> Position:
        """Where `path` is written, or its nearest written ancestor."""
        while path:
            if path in self.keys:
                return self.keys[path]
            if path in self.values:
                return self.values[path]
            path = path[:-1]
        return self.values.get((), Position(1, 1))


@dataclass(frozen=True)
class LoadedNotice:
    notice: Notice
    positions: Positions
    file: str
    text: str


def _mark(node: yaml.Node) -> Position:
    style = node.style if isinstance(node, yaml.ScalarNode) else None
    return Position(node.start_mark.line + 1, node.start_mark.column + 1, style)


def _walk(node: yaml.Node, path: Path, positions: Positions, problems: list[Finding],
          file: str) -> None:
    positions.values[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                pos = _mark(key_node)
                problems.append(Finding(file, pos.line, pos.column, "schema", "error",
                                        f"key {key!r} appears twice in the same mapping"))
            seen.add(key)
            positions.keys[(*path, key)] = _mark(key_node)
            _walk(value_node, (*path, key), positions, problems, file)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            positions.keys[(*path, index)] = _mark(item)
            _walk(item, (*path, index), positions, problems, file)


def _yaml_error(exc: yaml.YAMLError, file: str) -> NoticeInvalid:
    mark = (getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None))
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    if isinstance(exc, yaml.MarkedYAMLError):
        what = " ".join(str(p) for p in (exc.context, exc.problem) if p)
    else:
        what = str(exc)
    return NoticeInvalid([Finding(file, line, column, "yaml", "error", f"malformed YAML: {what}")])


def _compose(text: str, file: str) -> tuple[Any, Positions]:
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, file) from None
    if node is None:
        raise NoticeInvalid([Finding(file, 1, 1, "schema", "error", "the file is empty")])
    positions, problems = Positions(), list[Finding]()
    _walk(node, (), positions, problems, file)
    if problems:
        raise NoticeInvalid(problems)
    try:
        return _Loader("").construct_document(node), positions
    except yaml.YAMLError as exc:  # e.g. an unknown tag such as "!!python/object"
        raise _yaml_error(exc, file) from None


def _reason(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key (check the spelling; see docs/notices.md for the keys)"
    if kind == "missing":
        return f"missing required key {error['loc'][-1]!r}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "literal_error":
        message = f"{message}, not {error['input']!r}"
    return message


def _location(error: Any) -> Path:
    loc: Path = tuple(error["loc"])
    # pydantic names the dict key that failed with a "[key]" suffix in some modes.
    return loc[:-1] if error["type"] == "missing" else loc


def load_notice(text: str, *, file: str = "notice.yaml") -> LoadedNotice:
    """Parse and validate; raise NoticeInvalid with every problem, each with its line."""
    data, positions = _compose(text, file)
    try:
        notice = Notice.model_validate(data)
    except ValidationError as exc:
        findings = []
        for error in exc.errors():
            path = _location(error)
            pos = positions.of(path)
            where = ".".join(str(p) for p in error["loc"]) or "(top)"
            findings.append(Finding(file, pos.line, pos.column, "schema", "error",
                                    f"{where}: {_reason(error)}"))
        raise NoticeInvalid(sorted(findings, key=lambda f: (f.line, f.column))) from None
    problems = reference_problems(notice)
    if problems:
        raise NoticeInvalid([
            Finding(file, positions.of(path).line, positions.of(path).column, "schema", "error",
                    f"{'.'.join(str(p) for p in path)}: {message}")
            for path, message in problems])
    return LoadedNotice(notice, positions, file, text)
