"""Load a policy file and report every problem with its key path and line number.

The file is read as UTF-8. YAML is read strictly: a key given twice is an error (YAML would keep
the last one silently), dates and clock times stay text for the schema to check (so ``2026-13-45``
is a bad date at its line, and ``9:00`` is not the number 540), and a document nested too deeply or
too large once its aliases are expanded is refused instead of exhausting the stack or the memory.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.constructor import ConstructorError

from config.policy import Policy

MAX_BYTES = 1_000_000
"""A policy is a few kilobytes (the shipped one: about 8 KB); a file this large is something else."""
MAX_FLOW_DEPTH = 100
"""Brackets nested deeper than this are refused before parsing: PyYAML's scanner slows quadratically with it."""
MAX_NODES = 200_000
"""More nodes than any real policy has (the shipped one has about 600), counting aliases expanded."""

EMPTY = "the file is empty: a policy needs at least its rules (start from the shipped config/policy.yaml)"
_TEXT = "tag:yaml.org,2002:str"
_CLOCK_TIME = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")
"""YAML 1.1 reads ``9:00`` as 540 (base 60); in a policy it is a time of day."""


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
        if len(problems) == 1:
            super().__init__(f"policy {source}: {problems[0]}")
        else:
            lines = "\n".join(f"  {p}" for p in problems)
            super().__init__(f"policy {source} has {len(problems)} problems:\n{lines}")


class _PolicyLoader(yaml.SafeLoader):
    """PyYAML's safe loader without silent duplicate keys, timestamps or base-60 numbers."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        first_seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                line = key_node.start_mark.line + 1
                if key_node.value in first_seen:
                    raise ConstructorError(None, None, f"duplicate key {key_node.value!r} (first on line "
                                           f"{first_seen[key_node.value]})", key_node.start_mark)
                first_seen[key_node.value] = line
        return super().construct_mapping(node, deep)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """A value its tag's constructor refuses (``!!timestamp 2026-13-45``) is an error at its line."""
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, OverflowError) as exc:
            raise ConstructorError(None, None, f"cannot read {node.value!r} as {node.tag}: {exc}",
                                   node.start_mark) from None


_PolicyLoader.yaml_implicit_resolvers = {
    first: [(_TEXT, _CLOCK_TIME), *((tag, pattern) for tag, pattern in resolvers
                                    if tag != "tag:yaml.org,2002:timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _walk(root: yaml.Node) -> Iterator[tuple[tuple[str | int, ...], yaml.Node, int]]:
    """Every node with its key path and the line to report for it (a key's line for a mapping value)."""
    stack: list[tuple[tuple[str | int, ...], yaml.Node, int]] = [((), root, root.start_mark.line + 1)]
    seen = 0
    while stack:
        path, node, line = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            raise _TooLarge
        yield path, node, line
        if isinstance(node, yaml.MappingNode):
            stack.extend(((*path, k.value), v, k.start_mark.line + 1) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(((*path, i), item, item.start_mark.line + 1) for i, item in enumerate(node.value))


class _TooLarge(Exception):
    pass


def _nearest_line(loc: tuple[str | int, ...], index: dict[tuple[str | int, ...], int]) -> int | None:
    """The line of the deepest part of ``loc`` present in the file (a missing key: its parent)."""
    # pydantic puts the discriminator value into loc for tagged unions: skip non-file parts
    file_path: list[str | int] = []
    for part in loc:
        if (*file_path, part) in index:
            file_path.append(part)
    return index.get(tuple(file_path))


def _flow_depth(text: str) -> int:
    """How deep ``[ ]`` and ``{ }`` nest in ``text``, quotes not considered (a cheap upper bound)."""
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(depth - 1, 0)
    return deepest


def _compose(text: str, source: str) -> tuple[Any, dict[tuple[str | int, ...], int]]:
    """The document's data and the line of every key path in it."""
    if _flow_depth(text) > MAX_FLOW_DEPTH:
        raise PolicyError(source, [PolicyProblem("", None, f"brackets nested more than {MAX_FLOW_DEPTH} deep: "
                                                           "too deeply to be a policy")])
    loader = _PolicyLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise PolicyError(source, [PolicyProblem("", None, EMPTY)])
        index = {path: line for path, _, line in _walk(node)}
        return loader.construct_document(node), index
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        what = " ".join(filter(None, (getattr(exc, "context", None), getattr(exc, "problem", None))))
        raise PolicyError(source, [PolicyProblem("", line, f"not valid YAML: {what or exc}")]) from None
    except RecursionError:
        raise PolicyError(source, [PolicyProblem("", None, "nested too deeply to be a policy")]) from None
    except _TooLarge:
        raise PolicyError(source, [PolicyProblem("", None, f"more than {MAX_NODES} values once its aliases are "
                                                           "expanded: too large to be a policy")]) from None
    finally:
        loader.dispose()


def _message(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    given = error.get("input")
    if isinstance(given, str | int | float) and not isinstance(given, bool) and repr(given) not in message:
        shown = repr(given) if len(repr(given)) <= 80 else repr(given)[:77] + "..."
        return f"{message} (got {shown})"
    return message


def parse_policy(text: str, source: str = "<policy>") -> Policy:
    """Parse and validate policy YAML; raise ``PolicyError`` naming every bad key and its line."""
    data, index = _compose(text, source)
    if not isinstance(data, dict):
        raise PolicyError(source, [PolicyProblem("", 1, "the policy must be a mapping of keys")])
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        problems = [
            PolicyProblem(".".join(str(p) for p in err["loc"]), _nearest_line(tuple(err["loc"]), index), _message(err))
            for err in exc.errors()
        ]
        raise PolicyError(source, problems) from None
    references = [PolicyProblem(".".join(map(str, loc)), _nearest_line(loc, index), message)
                  for loc, message in policy.reference_problems()]
    if references:
        raise PolicyError(source, references)
    return policy


def read_policy_text(path: Path) -> str:
    """The file's text, read as UTF-8; an unreadable or undecodable file is a ``PolicyError`` naming where."""
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_BYTES + 1)
    except OSError as exc:
        raise PolicyError(str(path), [PolicyProblem("", None, f"cannot read the file: {exc.strerror}")]) from None
    if len(raw) > MAX_BYTES:
        raise PolicyError(str(path), [PolicyProblem("", None, f"larger than {MAX_BYTES:,} bytes: not a policy file")])
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        byte = raw[exc.start : exc.start + 1].hex()
        raise PolicyError(str(path), [PolicyProblem(
            "", line, f"byte 0x{byte} is not UTF-8: save the file as UTF-8")]) from None


def load_policy(path: Path) -> Policy:
    """Read ``path`` and validate it; a missing, unreadable or undecodable file is a ``PolicyError`` too."""
    return parse_policy(read_policy_text(path), str(path))
