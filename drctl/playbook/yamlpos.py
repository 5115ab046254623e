"""YAML to plain data plus a map from each value's path to its position in the file.

PyYAML's composer keeps a mark on every node; we walk the node tree once, building the Python value and
recording ``path -> (line, column)`` (1-based) so that any later error, from the schema or from a graph check,
can name the exact place in the file. Duplicate keys are an error here: YAML loaders silently keep the last
one, and a playbook that says two things about one step must not run either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

try:  # the C composer is several times faster; fall back where libyaml is absent
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


class _Loader(_BaseLoader):
    """YAML 1.2 core scalars only.

    YAML 1.1 reads ``02:00`` as the integer 120, ``no`` as false and ``2026-01-01`` as a date; in a change
    window or a record name that is a silent, dangerous surprise. Only ``true``/``false``, ``null``/``~``,
    decimal, octal and hex integers and floats are typed; everything else stays text.
    """

    yaml_implicit_resolvers: dict[str, list[tuple[str, re.Pattern[str]]]] = {}


for _tag, _pattern, _first in (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", "~nN"),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
):
    _Loader.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))
_Loader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^$"), [""])

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Position:
    line: int
    column: int


@dataclass
class LocatedDocument:
    data: Any
    #: position of each value (for mappings and sequences: where they start)
    values: dict[Path, Position] = field(default_factory=dict)
    #: position of each mapping key, so "unknown key" points at the key itself
    keys: dict[Path, Position] = field(default_factory=dict)

    def position(self, path: Path, *, prefer_key: bool = False) -> Position:
        """The closest known position for ``path``: itself, else its nearest located ancestor."""
        probe = tuple(path)
        while True:
            if prefer_key and probe in self.keys:
                return self.keys[probe]
            if probe in self.values:
                return self.values[probe]
            if probe in self.keys:
                return self.keys[probe]
            if not probe:
                return Position(1, 1)
            probe = probe[:-1]


class YamlSyntaxError(Exception):
    def __init__(self, message: str, position: Position) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


def _pos(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


def _scalar(node: yaml.ScalarNode, loader: Any) -> Any:
    return loader.construct_object(node, deep=True)


#: a playbook nests about six levels deep; far deeper is a hostile or generated file (and Python's recursion)
MAX_DEPTH = 64
#: values produced by following aliases: anchors reused for defaults are small; an alias bomb is not
MAX_ALIASED_VALUES = 10_000


class _Budget:
    """What one document may cost to build, checked while it is built (an alias bomb never materialises)."""

    def __init__(self) -> None:
        self.seen: set[int] = set()
        self.aliased = 0


def load_located(text: str) -> LocatedDocument:
    """Parse one YAML document; raise ``YamlSyntaxError`` with a position on any syntax problem."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        doc = LocatedDocument(data=None)
        if root is not None:
            doc.data = _walk(root, (), doc, loader, _Budget(), in_alias=False)
        return doc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
        problem = exc.problem or "invalid YAML"
        context = f" ({exc.context})" if exc.context else ""
        opened = exc.context_mark
        if opened is not None and mark is not None and (opened.line, opened.column) != (mark.line, mark.column):
            # the parser notices an unclosed bracket or quote only where the next construct starts; the place
            # to fix is where it was opened
            context += f", started at line {opened.line + 1} column {opened.column + 1}"
        lines = text.splitlines()
        line_text = lines[where.line - 1] if 0 < where.line <= len(lines) else ""
        hint = ""
        if "${" in line_text and "flow" in f"{exc.context} {problem}":
            hint = '; a ${...} value inside { } or [ ] must be quoted, e.g. "${AZURE_SUBSCRIPTION_ID}"'
        raise YamlSyntaxError(f"YAML syntax error: {problem}{context}{hint}", where) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"YAML error: {exc}", Position(1, 1)) from None
    finally:
        loader.dispose()


def _walk(node: yaml.Node, path: Path, doc: LocatedDocument, loader: Any, budget: _Budget, *, in_alias: bool) -> Any:
    if len(path) > MAX_DEPTH:
        raise YamlSyntaxError(f"values nest deeper than {MAX_DEPTH} levels: not a playbook", _pos(node))
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
        # a collection met twice is an alias being expanded (the composer shares the node)
        in_alias = in_alias or id(node) in budget.seen
        budget.seen.add(id(node))
    if in_alias:
        budget.aliased += 1
        if budget.aliased > MAX_ALIASED_VALUES:
            raise YamlSyntaxError(
                f"aliases (*name) expand to more than {MAX_ALIASED_VALUES} values: refused as an alias bomb",
                _pos(node),
            )
    doc.values[path] = _pos(node)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolves YAML merge keys (<<) the way PyYAML's own loader does
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, loader) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str | int | bool | float) or key is None:
                raise YamlSyntaxError("mapping keys must be plain text", _pos(key_node))
            skey = key if isinstance(key, str) else str(key)
            if skey in out:
                raise YamlSyntaxError(f"duplicate key {skey!r}: each key may appear once", _pos(key_node))
            doc.keys[(*path, skey)] = _pos(key_node)
            out[skey] = _walk(value_node, (*path, skey), doc, loader, budget, in_alias=in_alias)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_walk(item, (*path, i), doc, loader, budget, in_alias=in_alias) for i, item in enumerate(node.value)]
    return _scalar(node, loader)  # type: ignore[arg-type]
