"""YAML files whose mistakes are reported where they were written: ``FILE:LINE:COL: key: problem``.

Every YAML file the product reads (``yuqing.yaml``, ``sources.yaml``, ``alerting.yaml``, rule
files, and a sources file edited on the console) is read with :func:`parse_yaml`, which remembers
the position of every key and value, and validated by a pydantic model;
:func:`validation_problems` turns pydantic's errors into one line per mistake, with the nearest
valid key suggested for a misspelt one.

A YAML file is input a person wrote, so it is read with bounds (a :class:`ConfigError` naming
the file past any of them, never a hang or an exhausted machine):

* at most :data:`MAX_YAML_BYTES` (:func:`read_capped` reads no further than that);
* at most :data:`MAX_ALIASES` aliases (``*name``), and the document as the aliases expand it
  at most :data:`MAX_EXPANDED_NODES` nodes: a "billion laughs" of a few hundred bytes, nine
  anchors each repeating the one before nine times, is refused before anything walks it;
* at most :data:`MAX_DEPTH` levels of nesting;
* a value that cannot be built (a number of thousands of digits, a date in month 13) is a
  problem of the file, not a crash.
"""

from __future__ import annotations

import difflib
import re
import typing
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from pipeline.errors import ConfigError

#: Words for a regex a field must match, so a message says "use lower-case letters" rather than
#: quoting the pattern. Modules that declare patterns add theirs.
PATTERN_WORDS: dict[str, str] = {}

_KEY = "<key>"  # marks the position of a key itself (for "unknown key") rather than its value

#: The largest YAML file read: about 3,000 sources of ten lines each; more belong in a folder of
#: files (``sources/``), each under the bound.
MAX_YAML_BYTES = 1_000_000
#: Aliases a document may use: sharing a block of headers or selectors between sources is
#: what they are for, a few hundred at most.
MAX_ALIASES = 1_000
#: Nodes of the document with every alias expanded; a legitimate file is within a small factor
#: of its own size (a 1 MB sources file has about 100,000 nodes).
MAX_EXPANDED_NODES = 200_000
#: Levels of nesting; settings and sources use fewer than ten.
MAX_DEPTH = 50


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader that counts aliases and nesting while composing."""

    def __init__(self, stream: str, file: str):
        super().__init__(stream)
        self.file = file
        self.aliases = 0
        self.depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise ConfigError(f"{self.file}:{mark.line + 1}:{mark.column + 1}: more than "
                                  f"{MAX_ALIASES} aliases (*name); write the values out")
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise ConfigError(f"{self.file}:{mark.line + 1}:{mark.column + 1}: nested more "
                                  f"than {MAX_DEPTH} levels deep")
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _check_expansion(root: yaml.Node, file: str) -> None:
    """Raise ConfigError when ``root`` with its aliases expanded has more than
    :data:`MAX_EXPANDED_NODES` nodes, or when an alias sits inside its own anchor (a cycle).
    Each node as written is visited once, without recursion."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()  # entered and not yet left: the path from the root
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        key = id(node)
        if leaving:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            if sizes[key] > MAX_EXPANDED_NODES:
                raise ConfigError(f"{_place(node, file)}: the aliases here expand to more than "
                                  f"{MAX_EXPANDED_NODES} values; write the values out")
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise ConfigError(f"{_place(node, file)}: an alias inside its own anchor; a value "
                              "cannot contain itself")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node))


def _place(node: yaml.Node, file: str) -> str:
    return f"{file}:{node.start_mark.line + 1}:{node.start_mark.column + 1}"


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def read_capped(path, hint: str = "") -> str:
    """The UTF-8 text of the file at ``path``, refused past :data:`MAX_YAML_BYTES` without
    reading further; raises :class:`ConfigError` naming the file (``hint`` says where a path
    came from when it does not exist)."""
    file = Path(path)
    try:
        with file.open("rb") as f:
            raw = f.read(MAX_YAML_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"{file}: no such file; create it or {hint or 'give another path'}") from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc}") from None
    if len(raw) > MAX_YAML_BYTES:
        raise ConfigError(f"{file}: larger than {MAX_YAML_BYTES} bytes; split it (sources may be "
                          "a folder of files)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{file}: cannot read: {exc}; save it as UTF-8") from None


class Marks:
    """Where each value of a YAML document was written, by its path of keys and indexes."""

    def __init__(self, file: str | None):
        self.file = file
        self.places: dict[tuple, str] = {}

    def set(self, loc: tuple, place: str) -> None:
        self.places[loc] = place

    def find(self, loc: tuple) -> str:
        """The deepest known place on the path: a missing key is reported where its parent is."""
        for depth in range(len(loc), -1, -1):
            if loc[:depth] in self.places:
                return self.places[loc[:depth]]
        return self.file or "settings"

    def key(self, loc: tuple) -> str:
        """Where the key at ``loc`` was written (falls back to its value's place)."""
        return self.places.get(loc + (_KEY,)) or self.find(loc)


def parse_yaml(raw: str, file: str) -> tuple[typing.Any, Marks]:
    """Parse one YAML document within the bounds of the module docstring; raises
    :class:`ConfigError` naming the line of a syntax error or of the bound passed."""
    marks = Marks(file)
    if len(raw) > MAX_YAML_BYTES:  # characters: at least as many bytes in UTF-8
        raise ConfigError(f"{file}: larger than {MAX_YAML_BYTES} bytes; split it (sources may be "
                          "a folder of files)")
    loader = None
    try:
        loader = _BoundedLoader(raw, file)  # the reader refuses unprintable characters at once
        root = loader.get_single_node()
        if root is not None:
            _check_expansion(root, file)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else file
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: not valid YAML: {problem}") from None
    finally:
        if loader is not None:
            loader.dispose()
    if root is None:
        return None, marks

    stack: list[tuple[yaml.Node, tuple]] = [(root, ())]
    while stack:  # every value's place by its path (aliases expanded, bounded above)
        node, loc = stack.pop()
        marks.set(loc, _place(node, file))
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                # a key that is itself a list or mapping cannot name a path: it has no place
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "<complex key>"
                marks.set(loc + (key, _KEY), _place(key_node, file))
                stack.append((value_node, loc + (key,)))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, loc + (i,)) for i, item in enumerate(node.value))
    # the places are taken before construction, which rewrites merge keys (<<) in place
    try:
        data = loader.construct_document(root)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else file
        raise ConfigError(f"{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    except (ValueError, OverflowError) as exc:  # int('9' * 5000), a date in month 13
        raise ConfigError(f"{file}: a value cannot be read: {str(exc)[:200]}") from None
    return data, marks


def read_mapping(path, expected: str, hint: str = "") -> tuple[dict, Marks]:
    """Read the YAML file at ``path`` whose top level must be a mapping (``expected`` names its
    keys for the message); an empty file is an empty mapping. Raises :class:`ConfigError` naming
    the file for a missing or unreadable one (``hint`` says where the path came from)."""
    file = Path(path)
    raw = read_capped(file, hint)
    data, marks = parse_yaml(raw, str(file))
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{file}:1: expected a mapping of {expected}")
    return data, marks


def _model_in(annotation) -> type[BaseModel] | None:
    """The pydantic model inside an annotation such as ``Model``, ``list[Model]``, ``Model | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def allowed_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """The field names valid at ``loc`` inside ``model`` (list indexes are stepped over)."""
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None:
            return []
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part)
        current = _model_in(field.annotation) if field else None
    if current is None:
        return []
    return [name for name, f in current.model_fields.items() if not f.exclude]


def validation_problems(exc: ValidationError, marks: Marks, model: type[BaseModel],
                        prefix: tuple = ()) -> list[str]:
    """One ``PLACE: dotted.key: message`` line per error of ``exc``.

    ``prefix`` is the path of the validated data inside the document (when a model validates
    one item of a larger file).
    """
    problems = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        full = prefix + loc
        dotted = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in full).replace(".[", "[")
        if err["type"] == "extra_forbidden":
            allowed = allowed_keys(model, loc[:-1])
            hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
            problems.append(f"{marks.key(full)}: {dotted}: unknown key{suggestion} "
                            f"Allowed here: {', '.join(allowed)}")
            continue
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            message = "required but missing"
        elif err["type"] == "string_pattern_mismatch":
            pattern = err["ctx"]["pattern"]
            words = PATTERN_WORDS.get(pattern, f"text matching {pattern}")
            message = f"{err['input']!r} is not allowed; use {words}"
        problems.append(f"{marks.find(full)}: {dotted}: {message}")
    return sorted(problems, key=_position)


def _position(problem: str) -> tuple[int, int]:
    """(line, column) of a ``FILE:LINE:COL: ...`` problem, so they are listed in file order."""
    match = re.match(r"[^:]*:(\d+):(\d+):", problem)
    return (int(match[1]), int(match[2])) if match else (0, 0)
