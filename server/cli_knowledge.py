"""``blueprint knowledge validate | list | show``: check and inspect the knowledge packs.

Also :func:`require_valid_knowledge`, which the commands that run blueprints call first: with an invalid
pack in ``BLUEPRINT_KNOWLEDGE_DIR`` they exit 2 with the full report instead of running half-loaded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from server.cli_help import PlainHelp, PlainHelpGroup

if TYPE_CHECKING:
    from graph.knowledge import KnowledgeBase

__all__ = ["knowledge_app", "require_valid_knowledge"]

knowledge_app = typer.Typer(
    help="Check and inspect the knowledge packs (built-in, plus BLUEPRINT_KNOWLEDGE_DIR).", no_args_is_help=True,
    cls=PlainHelpGroup,
)
TABLES = {"verticals": "verticals", "categories": "categories", "data-points": "data_points", "sources": "sources"}
DirsOption = Annotated[
    list[Path] | None,
    typer.Option("--dir", metavar="DIR", help="Pack folder to load instead of BLUEPRINT_KNOWLEDGE_DIR (repeatable)."),
]


def require_valid_knowledge() -> None:
    """Load the configured knowledge once; on an invalid pack print every problem and exit 2."""
    from graph.knowledge import KnowledgeError, load_knowledge

    try:
        load_knowledge()
    except KnowledgeError as exc:
        typer.echo(exc.report(), err=True)
        raise typer.Exit(2) from None


def _load(dirs: list[Path] | None) -> KnowledgeBase:
    """The knowledge base with ``dirs`` (or the configured folders); exit 2 with the report if invalid."""
    from graph.knowledge import KnowledgeError, load_knowledge
    from graph.knowledge.base import _data_dir, load_from
    from graph.settings import get_settings

    try:
        if dirs is None:
            return load_knowledge()
        return load_from(_data_dir(), snapshot_dir=get_settings().cache_dir / "knowledge", pack_dirs=dirs,
                         dirs_origin="the --dir path")
    except KnowledgeError as exc:
        typer.echo(exc.report(), err=True)
        raise typer.Exit(2) from None


@knowledge_app.command("validate", cls=PlainHelp)
def validate(
    dirs: Annotated[list[Path], typer.Argument(metavar="DIR...", help="Folders of YAML packs to check.")],
) -> None:
    """Check packs against the built-in knowledge: every problem with its file, line and a fix (exit 2)."""
    from graph.knowledge import KnowledgeError
    from graph.knowledge.base import _data_dir, load_from
    from graph.settings import get_settings

    try:
        kb = load_from(_data_dir(), snapshot_dir=get_settings().cache_dir / "knowledge", pack_dirs=dirs,
                       dirs_origin="the DIR argument (a folder of YAML packs)")
    except KnowledgeError as exc:
        typer.echo(exc.report())
        raise typer.Exit(2) from None
    mine = [key for key, history in kb.history.items() if any(not e.builtin for e in history)]
    packs = sorted({e.pack for h in kb.history.values() for e in h if not e.builtin})
    typer.echo(f"ok: {len(packs)} pack(s) ({', '.join(packs) or 'none'}) add or change {len(mine)} entries, "
               f"exclude {len(kb.excluded)}; knowledge version {kb.version}")


def _packs_of(kb: KnowledgeBase, kind: str, ident: str) -> list[str]:
    return list(dict.fromkeys(e.pack for e in kb.history.get((kind, ident), [])))


@knowledge_app.command("list", cls=PlainHelp)
def list_entries(
    what: Annotated[Literal["verticals", "categories", "data-points", "sources"] | None,
                    typer.Argument(metavar="KIND",
                                   help="Which kind of entry (default: all).")] = None,
    pack: Annotated[str | None, typer.Option(metavar="NAME", help="Only entries this pack defines or changes.")] = None,
    dirs: DirsOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per kind.")] = False,
) -> None:
    """List the entries of the knowledge base: id, name, and the packs that made them."""
    kb = _load(dirs)
    out: dict[str, list[dict[str, Any]]] = {}
    for label, kind in TABLES.items():
        if what and what != label:
            continue
        rows = []
        for ident, item in getattr(kb, kind).items():
            packs = _packs_of(kb, kind, ident)
            if pack and pack not in packs:
                continue
            row = {"id": ident, "name": item.name, "packs": packs}
            if kind == "data_points":
                row["section"] = item.section
            rows.append(row)
        out[label] = rows
    if as_json:
        typer.echo(json.dumps(out, indent=2))
        return
    for label, rows in out.items():
        typer.echo(f"{label} ({len(rows)})")
        for row in rows:
            section = f" [{row['section']}]" if "section" in row else ""
            typer.echo(f"  {row['id']}{section}  {row['name']}  ({', '.join(row['packs'])})")


@knowledge_app.command("show", cls=PlainHelp)
def show(
    ident: Annotated[str, typer.Argument(metavar="ID", help="A vertical, category, data point or source id.")],
    dirs: DirsOption = None,
) -> None:
    """Show an entry as it is in effect, where it was defined and what overrides, extends or excludes it."""
    import yaml

    from graph.knowledge.pack_schema import SINGULAR
    from graph.knowledge.problems import did_you_mean

    kb = _load(dirs)
    found = False
    for kind in TABLES.values():
        item = getattr(kb, kind).get(ident)
        history = kb.history.get((kind, ident), [])
        excluded = kb.excluded.get((kind, ident))
        if item is None and excluded is None:
            continue
        found = True
        typer.echo(f"{SINGULAR[kind]} {ident}" + (f": {item.name}" if item is not None else ""))
        verbs = {"define": "defined in", "override": "overridden by", "extend": "extended by"}
        for entry in history:
            typer.echo(f"  {verbs[entry.action]}: pack {entry.pack!r} ({entry.site.at()})")
        if excluded is not None:
            typer.echo(f"  excluded: {excluded.reason} ({excluded.location}); no blueprint recommends it")
        if item is not None:
            body = item.model_dump(mode="json", exclude_defaults=True)
            typer.echo("  " + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=110)
                       .rstrip().replace("\n", "\n  "))
    if not found:
        every = [i for kind in TABLES.values() for i in getattr(kb, kind)]
        typer.echo(f"error: no vertical, category, data point or source {ident!r}. {did_you_mean(ident, every)}"
                   .rstrip(), err=True)
        raise typer.Exit(2)
