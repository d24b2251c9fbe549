"""YAML files whose mistakes are reported where they were written: ``FILE:LINE:COL: key: problem``.

Every YAML file an operator edits (``yuqing.yaml``, ``sources.yaml``, rule files) is read with
:func:`parse_yaml`, which remembers the position of every key and value, and validated by a
pydantic model; :func:`validation_problems` turns pydantic's errors into one line per mistake,
with the nearest valid key suggested for a misspelt one.
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
    """Parse one YAML document; raises :class:`ConfigError` naming the line of a syntax error."""
    marks = Marks(file)
    try:
        root = yaml.compose(raw, Loader=yaml.SafeLoader)
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else file
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}: not valid YAML: {problem}") from None
    if root is None:
        return data, marks

    def place(node: yaml.Node) -> str:
        return f"{file}:{node.start_mark.line + 1}:{node.start_mark.column + 1}"

    def walk(node: yaml.Node, loc: tuple) -> None:
        marks.set(loc, place(node))
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                marks.set(loc + (key_node.value, _KEY), place(key_node))
                walk(value_node, loc + (key_node.value,))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, loc + (i,))

    walk(root, ())
    return data, marks


def read_mapping(path, expected: str, hint: str = "") -> tuple[dict, Marks]:
    """Read the YAML file at ``path`` whose top level must be a mapping (``expected`` names its
    keys for the message); an empty file is an empty mapping. Raises :class:`ConfigError` naming
    the file for a missing or unreadable one (``hint`` says where the path came from)."""
    file = Path(path)
    try:
        raw = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{file}: no such file; create it or {hint or 'give another path'}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read: {exc}") from None
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
