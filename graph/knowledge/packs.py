"""Reading a team's knowledge packs (``BLUEPRINT_KNOWLEDGE_DIR``) with line numbers, entry by entry.

Every file is read with the line of each node and every entry is validated on its own (against
:mod:`graph.knowledge.pack_schema`), so one run reports all the problems of all the files
(:class:`graph.knowledge.problems.Problem`), not the first one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ValidationError

from graph.knowledge.pack_schema import ENTRY_ADAPTERS, ENTRY_MODELS, KINDS, SINGULAR, TOP_KEYS, Extension, Kind
from graph.knowledge.problems import Location, Path_, Problem, Site, did_you_mean

__all__ = ["Loose", "PackEntry", "PackFile", "ParsedPack", "pack_files", "parse_pack", "read_pack_file"]


@dataclass
class PackFile:
    display: str  # how the report names the file
    name: str  # the pack's name
    data: Any
    lines: dict[Path_, int]


@dataclass
class PackEntry:
    kind: Kind
    ident: str
    item: BaseModel  # a *Entry or a *Extension
    pack: str
    site: Site
    builtin: bool = False
    action: Literal["define", "override", "extend"] = field(init=False)

    def __post_init__(self) -> None:
        # decided once: ~1,400 built-in entries merge on every start, and pydantic's missing-attribute
        # lookup (a plain model has no ``override``) is slow
        if isinstance(self.item, Extension):
            self.action = "extend"
        elif "override" in type(self.item).model_fields and self.item.override:  # type: ignore[attr-defined]
            self.action = "override"
        else:
            self.action = "define"


def pack_files(folder: Path) -> list[Path]:
    """The YAML files of one knowledge folder, in a stable order (sub-folders included)."""
    return sorted([*folder.rglob("*.yaml"), *folder.rglob("*.yml")], key=lambda p: p.relative_to(folder).as_posix())


def _line_map(node: yaml.Node, path: Path_, out: dict[Path_, int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                _line_map(value, (*path, key.value), out)
                out[(*path, key.value)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _line_map(item, (*path, index), out)


def read_pack_file(path: Path, display: str) -> tuple[PackFile | None, list[Problem]]:
    """The file's data and the line of every node in it, or the YAML error as a problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(Location(display), f"cannot read the file: {exc}", "save it as UTF-8 text")]
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else {}
    except yaml.YAMLError as exc:
        # the construct that was left open (a flow list, a quoted string) is where the fix usually goes;
        # the point where the parser gave up can be lines later, at the end of the file
        problem, context = getattr(exc, "problem_mark", None), getattr(exc, "context_mark", None)
        mark = context or problem
        reason = getattr(exc, "problem", None) or str(exc)
        if context is not None and problem is not None and problem.line != context.line:
            opened = str(getattr(exc, "context", "") or "construct").removeprefix("while parsing ")
            reason += f" at line {problem.line + 1}; {opened} starts here"
        return None, [Problem(Location(display, mark.line + 1 if mark is not None else None),
                              f"not valid YAML: {reason}", "check the indentation and quoting around this line")]
    finally:
        loader.dispose()
    lines: dict[Path_, int] = {}
    if node is not None:
        _line_map(node, (), lines)
    named = data.get("name") if isinstance(data, dict) else None
    name = named if isinstance(named, str) and named else path.stem
    return PackFile(display, name, data if data is not None else {}, lines), []


# ───────────────────────────── validating entries ─────────────────────────────


def _data_path(data: Any, loc: tuple[Any, ...]) -> Path_:
    """The part of a pydantic error location that exists in the data (drops union tags such as 'entry')."""
    path: list[str | int] = []
    for part in loc:
        inside_map = isinstance(data, dict) and part in data
        if inside_map or (isinstance(data, list) and isinstance(part, int) and part < len(data)):
            data = data[part]
            path.append(part)
        elif isinstance(data, dict) and isinstance(part, str) and part not in {"entry", "extend"}:
            path.append(part)  # a missing field: named, located at its parent
            break
    return tuple(path)


def _fields_of(model: type[BaseModel]) -> list[str]:
    return sorted(model.model_fields)


# pydantic's "Input should be a valid dictionary or instance of …": a plain value where a mapping goes
_NOT_A_MAPPING = {"model_type", "dict_type", "model_attributes_type"}


def _validation_problems(kind: Kind, raw: Any, exc: ValidationError, site: Site) -> Iterator[Problem]:
    label = SINGULAR[kind]
    ident = raw.get("key" if kind == "data_points" else "id") if isinstance(raw, dict) else None
    who = f"{label} {ident!r}" if ident else f"{label} #{site.path[-1] if site.path else '?'}"
    model = ENTRY_MODELS[kind]
    for error in exc.errors():
        path = _data_path(raw, tuple(error["loc"]))
        where = ".".join(str(p) for p in path)
        if error["type"] == "extra_forbidden":
            key = str(path[-1]) if path else "?"
            parent: Any = raw
            for part in path[:-1]:
                parent = parent[part]
            allowed = _fields_of(model) if len(path) == 1 else []
            hint = did_you_mean(key, allowed or []) or (
                f"allowed keys: {', '.join(allowed)}" if allowed else "remove it (see `blueprint schema pack`)")
            yield Problem(site.at(*path), f"{who}: unknown key {key!r}", hint)
        elif error["type"] == "missing":
            yield Problem(site.at(*path[:-1]), f"{who}: missing required key {where!r}",
                          f"add `{path[-1]}:` (see `blueprint schema pack` for what it holds)")
        elif error["type"] in _NOT_A_MAPPING and len(path) == 2 and path[0] == "sources":
            given = error.get("input")
            example = given if isinstance(given, str) and given else "apollo"
            yield Problem(site.at(*path), f"{who}: {where}: a source is a mapping, not {given!r}",
                          f"write `{{source: {example}, field: <path in its response>}}` (`field` and `note` "
                          f"are optional; e.g. `{{source: apollo, field: organization.estimated_num_employees}}`)")
        else:
            message = error["msg"].removeprefix("Value error, ")
            yield Problem(site.at(*path), f"{who}: {where or 'entry'}: {message}",
                          "see `blueprint schema pack` for the allowed values")


class Loose:
    """Attribute access over an entry that failed validation, so its references, field paths and example
    are still checked: one run reports every problem, not the schema's first."""

    def __init__(self, raw: Any) -> None:
        self._raw = raw if isinstance(raw, dict) else {}

    def __getattr__(self, name: str) -> Any:
        value = self._raw.get(name)
        if isinstance(value, dict):
            return Loose(value)
        if isinstance(value, list):
            return [Loose(v) if isinstance(v, dict) else v for v in value if isinstance(v, dict | str)]
        return value


@dataclass
class ParsedPack:
    name: str = ""
    entries: list[PackEntry] = field(default_factory=list)
    exclusions: list[tuple[str, Site]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    broken: set[tuple[Kind, str]] = field(default_factory=set)  # ids of entries that failed validation
    loose: list[tuple[Kind, str, Any, Site]] = field(default_factory=list)  # those entries, raw, still checked


def parse_pack(pack: PackFile) -> ParsedPack:
    """The pack's valid entries, its exclusions (id, where) and a problem for everything else; the ids
    of invalid entries are kept so that references to them do not add a second, misleading problem."""
    out = ParsedPack(name=pack.name)
    problems = out.problems
    top = Site(pack.display, (), pack.lines)
    data = pack.data
    if not isinstance(data, dict):
        message = "a pack is a mapping with verticals, categories, data_points, sources and exclude"
        return ParsedPack(problems=[Problem(top.at(), message, "start the file with e.g. `data_points:`")])
    for key in data:
        if key not in TOP_KEYS:
            hint = did_you_mean(str(key), TOP_KEYS) or f"allowed top-level keys: {', '.join(sorted(TOP_KEYS))}"
            problems.append(Problem(top.at(key), f"unknown top-level key {key!r}", hint))
    for kind in KINDS:
        items = data.get(kind) or []
        if not isinstance(items, list):
            problems.append(Problem(top.at(kind), f"{kind} must be a list", "write each entry as `- id: ...`"))
            continue
        for index, raw in enumerate(items):
            site = Site(pack.display, (kind, index), pack.lines)
            try:
                item = ENTRY_ADAPTERS[kind].validate_python(raw)
            except ValidationError as exc:
                problems.extend(_validation_problems(kind, raw, exc, site))
                ident = raw.get("key" if kind == "data_points" else "id") if isinstance(raw, dict) else None
                if isinstance(ident, str):
                    out.broken.add((kind, ident))
                    out.loose.append((kind, ident, Loose(raw), site))
                continue
            ident = item.key if kind == "data_points" else item.id
            out.entries.append(PackEntry(kind, ident, item, pack.name, site))
    excludes = data.get("exclude") or []
    if not isinstance(excludes, list) or not all(isinstance(x, str) for x in excludes):
        problems.append(Problem(top.at("exclude"), "exclude must be a list of ids",
                                "e.g. `exclude: [linkedin_sales_navigator, owner_personal_email]`"))
        excludes = []
    out.exclusions = [(ident, Site(pack.display, ("exclude", i), pack.lines)) for i, ident in enumerate(excludes)]
    return out
