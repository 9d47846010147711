"""Loading the knowledge base: read every pack once, validate it, cross-check every reference.

Nothing is read at import; :func:`load_knowledge` reads and validates on first call and caches the
result for the process.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import orjson
import yaml
from pydantic import ValidationError

from graph.knowledge.checks import check_examples, check_fields, check_loose, check_references
from graph.knowledge.merge import Exclusion, Merger
from graph.knowledge.models import DataPointSpec, Pack, ProductCategory, SourceSpec, Vertical
from graph.knowledge.naics import NaicsReference, load_naics
from graph.knowledge.pack_schema import ENTRY_ADAPTERS, KINDS, Kind
from graph.knowledge.packs import PackEntry, ParsedPack, pack_files, parse_pack, read_pack_file
from graph.knowledge.problems import Location, Problem, Site
from graph.knowledge.provider_fields import PROVIDER_SHAPES

if TYPE_CHECKING:
    from graph.settings import Settings

__all__ = ["PROVIDER_SHAPES", "KnowledgeBase", "KnowledgeError", "load_from", "load_knowledge"]

class KnowledgeError(ValueError):
    """The knowledge packs are inconsistent: every problem, each with its file, line and a fix.

    ``str()`` is the whole report, as ``blueprint knowledge validate`` prints it."""

    def __init__(self, problems: list[Problem] | str) -> None:
        self.problems = [Problem(Location("knowledge"), problems)] if isinstance(problems, str) else problems
        super().__init__(self.report())

    def report(self) -> str:
        count = len(self.problems)
        lines = [f"knowledge packs: {count} problem{'s' if count != 1 else ''}"]
        lines += ["  " + p.render().replace("\n", "\n  ") for p in self.problems]
        return "\n".join(lines)


_T = TypeVar("_T")


@dataclass
class KnowledgeBase:
    version: str
    verticals: dict[str, Vertical] = field(default_factory=dict)
    categories: dict[str, ProductCategory] = field(default_factory=dict)
    data_points: dict[str, DataPointSpec] = field(default_factory=dict)
    sources: dict[str, SourceSpec] = field(default_factory=dict)
    # (kind, id) → the pack entries that defined, overrode and extended it, in load order
    history: dict[tuple[str, str], list[PackEntry]] = field(default_factory=dict)
    excluded: dict[tuple[str, str], Exclusion] = field(default_factory=dict)
    pack_dirs: list[Path] = field(default_factory=list)
    naics: NaicsReference | None = None  # the reference the verticals' codes are checked against
    # what the engine derives from the entries (indexes, name tables, memos), built on first use
    _derived: dict[Hashable, Any] = field(default_factory=dict, repr=False, compare=False)

    def derived(self, key: Hashable, build: Callable[[], _T]) -> _T:
        """Data derived from this knowledge base (an index, a name table), built once on first use and kept
        with it: the engine never rebuilds it per run, and another knowledge base (a reload, a team's packs)
        never sees it. Only for data derived once the base is loaded (``add`` is not called after)."""
        if key not in self._derived:
            self._derived[key] = build()
        return cast(_T, self._derived[key])

    def add(self, pack: Pack, origin: str) -> None:
        """Merge a built-in pack (duplicates are an error: use an external pack's ``override``)."""
        problems: list[Problem] = []
        Merger(self, problems).apply(_builtin_entries(pack, origin))
        if problems:
            raise KnowledgeError(problems)

    def check(self, broken: set[tuple[Kind, str]] | None = None) -> None:
        """Every reference points at something that exists, every API field path is real, every example
        of a team's data point fits its type."""
        problems = [*check_references(self, broken or set()), *check_fields(self), *check_examples(self)]
        if self.naics is not None:
            problems += [Problem(Location("knowledge"), f"vertical {vertical.id}: naics {why}")
                         for vertical in self.verticals.values() for code in vertical.naics
                         if (why := self.naics.problem(code))]
        if problems:
            raise KnowledgeError(problems)

    def by_section(self, section: str) -> Iterable[DataPointSpec]:
        return (dp for dp in self.data_points.values() if dp.section == section)


def _builtin_entries(pack: Pack, origin: str) -> list[PackEntry]:
    name = origin.removesuffix(".yaml")
    site = Site(f"built-in {origin}")
    return [PackEntry(kind, item.key if isinstance(item, DataPointSpec) else item.id, item, name, site, builtin=True)
            for kind in KINDS for item in getattr(pack, kind)]


def _data_dir() -> Path:
    return Path(str(resources.files("graph.knowledge") / "data"))


def _builtin_extensions(name: str, raw: object) -> tuple[object, list[PackEntry]]:
    """A built-in pack without its ``extend: true`` entries, and those entries: a depth pack adds sources and
    markets to data points other packs define. They merge after every built-in definition, whichever file
    (in name order) defines the entry they extend."""
    if not isinstance(raw, dict):
        return raw, []
    rest, extensions = dict(raw), []
    site = Site(f"built-in {name}")
    for kind in KINDS:
        items = raw.get(kind) or []
        if not isinstance(items, list):
            continue
        rest[kind] = [item for item in items if not (isinstance(item, dict) and item.get("extend"))]
        for item in items:
            if isinstance(item, dict) and item.get("extend"):
                try:
                    extension = ENTRY_ADAPTERS[kind].validate_python(item)
                except ValidationError as exc:
                    raise KnowledgeError(f"built-in {name}: {exc}") from exc
                ident = extension.key if kind == "data_points" else extension.id
                extensions.append(PackEntry(kind, ident, extension, name.removesuffix(".yaml"), site, builtin=True))
    return rest, extensions


def _parse_pack(name: str, raw: object) -> Pack:
    try:
        return Pack.model_validate(raw or {})
    except ValidationError as exc:
        raise KnowledgeError(f"built-in {name}: {exc}") from exc


def _read_yaml(path: Path) -> object:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or {}
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"{path.name}: {exc}") from exc


def _raw_packs(files: list[Path], snapshot: Path | None) -> list[object]:
    """The packs as parsed YAML, from a JSON snapshot of exactly these files when one exists.

    Parsing ~1.4 MB of YAML costs ~0.3 s per process (every CLI start); the snapshot, named by the
    files' digest, loads in ~30 ms. It is plain data, validated like the YAML, and written once (a
    folder that cannot be written only means no snapshot).
    """
    if snapshot is not None and snapshot.is_file():
        try:
            raws = orjson.loads(snapshot.read_bytes())
            if isinstance(raws, list) and len(raws) == len(files):
                return raws
        except (OSError, orjson.JSONDecodeError):
            pass  # unreadable or torn: parse the YAML again and rewrite it
    raws = [_read_yaml(path) for path in files]
    if snapshot is not None:
        try:
            snapshot.parent.mkdir(parents=True, exist_ok=True)
            partial = snapshot.with_suffix(f".{os.getpid()}.tmp")
            partial.write_bytes(orjson.dumps(raws))
            os.replace(partial, snapshot)  # atomic: a concurrent reader sees all of it or none
            for old in snapshot.parent.glob("knowledge-*.json"):  # earlier knowledge versions
                if old != snapshot:
                    old.unlink(missing_ok=True)
        except OSError:
            pass
    return raws


ENV_ORIGIN = "BLUEPRINT_KNOWLEDGE_DIR (folders separated by ',' or the path separator)"


def _external_packs(dirs: Sequence[Path], digest: Any, origin: str = ENV_ORIGIN
                    ) -> tuple[list[ParsedPack], list[Problem]]:
    """Every pack of the team's folders, parsed with line numbers; the files feed ``digest``. ``origin``
    names where the folders came from, for the fix of one that does not exist."""
    parsed: list[ParsedPack] = []
    problems: list[Problem] = []
    for folder in dirs:
        if not folder.is_dir():
            problems.append(Problem(Location(str(folder)), "knowledge folder not found", f"check {origin}"))
            continue
        for path in pack_files(folder):
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
            pack_file, read_problems = read_pack_file(path, str(path))
            problems += read_problems
            if pack_file is not None:
                parsed.append(parse_pack(pack_file))
    return parsed, problems


def load_from(data_dir: Path, snapshot_dir: Path | None = None, pack_dirs: Sequence[Path] = (),
              dirs_origin: str = ENV_ORIGIN) -> KnowledgeBase:
    """The built-in packs of ``data_dir``, then the packs of ``pack_dirs`` (from ``dirs_origin``: the
    setting, or a command's argument) merged over them, checked as a whole. Raises
    :class:`KnowledgeError` with every problem found."""
    files = sorted([data_dir / "sources.yaml", *sorted((data_dir / "packs").glob("*.yaml"))])
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    declared = (data_dir / "VERSION").read_text(encoding="utf-8").strip()
    version = f"{declared}+{digest.hexdigest()[:8]}"
    naics = data_dir / "naics.yaml"  # reference data, not a pack (a bare test folder may have none)
    snapshot = None if snapshot_dir is None else snapshot_dir / f"knowledge-{digest.hexdigest()[:24]}.json"
    problems: list[Problem] = []
    kb = KnowledgeBase(version=version, pack_dirs=list(pack_dirs),
                       naics=load_naics(naics) if naics.is_file() else None)
    merger = Merger(kb, problems)
    extensions: list[PackEntry] = []
    for path, raw in zip(files, _raw_packs(files, snapshot), strict=True):
        definitions, extended = _builtin_extensions(path.name, raw)
        extensions += extended
        merger.apply(_builtin_entries(_parse_pack(path.name, definitions), path.name))
    merger.apply(extensions)
    broken: set[tuple[Kind, str]] = set()
    loose: list[tuple[Kind, str, Any, Site]] = []
    if pack_dirs:
        packs_digest = hashlib.sha256()
        parsed, problems_read = _external_packs(pack_dirs, packs_digest, dirs_origin)
        problems += problems_read
        for pack in parsed:
            problems += pack.problems
            broken |= pack.broken
            loose += pack.loose
            merger.apply(pack.entries)
        merger.exclude([(ident, site, pack.name) for pack in parsed for ident, site in pack.exclusions])
        # the team's packs are part of the version: a changed pack never reuses a cached blueprint
        kb.version = f"{version}.packs-{packs_digest.hexdigest()[:8]}"
    try:
        kb.check(broken)
    except KnowledgeError as exc:
        problems += exc.problems
    problems += check_loose(kb, loose, broken)
    if problems:
        raise KnowledgeError(sorted(problems, key=lambda p: (p.location.file, p.location.line or 0)))
    return kb


def load_knowledge_from_settings(settings: Settings) -> KnowledgeBase:
    return load_from(_data_dir(), snapshot_dir=settings.cache_dir / "knowledge", pack_dirs=settings.knowledge_dirs)


@lru_cache(maxsize=1)
def load_knowledge() -> KnowledgeBase:
    """The knowledge base — the embedded packs plus those of ``BLUEPRINT_KNOWLEDGE_DIR`` — loaded and
    validated once per process (a parsed snapshot of the embedded packs is kept in the cache folder, so
    the next process skips their YAML parsing). Tests that change the folders call ``cache_clear()``."""
    from graph.settings import get_settings

    return load_knowledge_from_settings(get_settings())
