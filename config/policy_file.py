"""Load a policy file and report every problem with its key path and line number."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from config.policy import Policy


@dataclass(frozen=True)
class PolicyProblem:
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        return f"{where}: {self.path or '(top level)'}: {self.message}"


class PolicyError(Exception):
    """A policy file that cannot be used; ``problems`` lists each key that is wrong."""

    def __init__(self, source: str, problems: list[PolicyProblem]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"policy {source} has {len(problems)} problem(s):\n{lines}")


def _line_index(node: yaml.Node, path: tuple[str | int, ...], index: dict[tuple[str | int, ...], int]) -> None:
    index[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            index[(*path, key)] = key_node.start_mark.line + 1
            _line_index(value_node, (*path, key), index)
            index[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_index(item, (*path, i), index)


def _nearest_line(loc: tuple[str | int, ...], index: dict[tuple[str | int, ...], int]) -> int | None:
    """The line of the deepest part of ``loc`` present in the file (a missing key: its parent)."""
    # pydantic puts the discriminator value into loc for tagged unions: skip non-file parts
    file_path: list[str | int] = []
    for part in loc:
        if (*file_path, part) in index:
            file_path.append(part)
    return index.get(tuple(file_path))


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    """Parse and validate policy YAML; raise ``PolicyError`` naming every bad key and its line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        what = " ".join(filter(None, (getattr(exc, "context", None), getattr(exc, "problem", None))))
        raise PolicyError(source, [PolicyProblem("", line, f"not valid YAML: {what or exc}")]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PolicyError(source, [PolicyProblem("", 1, "the policy must be a mapping of keys")])
    index: dict[tuple[str | int, ...], int] = {}
    if node is not None:
        _line_index(node, (), index)
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = [
            PolicyProblem(
                ".".join(str(p) for p in err["loc"]),
                _nearest_line(tuple(err["loc"]), index),
                err["msg"],
            )
            for err in exc.errors()
        ]
        raise PolicyError(source, problems) from None


def load_policy(path: Path) -> Policy:
    """Read ``path`` and validate it; a missing file is a ``PolicyError`` too."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(str(path), [PolicyProblem("", None, f"cannot read the file: {exc.strerror}")]) from None
    return parse_policy(text, str(path))
