"""Prompt files, one per LLM node (``prompts/<node>.md``), loaded by name.

Nothing is read at import: :func:`load_prompt` reads a file on first use and keeps it. Placeholders
use ``$name`` (``string.Template``) so JSON examples in a prompt need no brace escaping. The files are
part of a run's cache key (``graph.fingerprint.prompts_digest``): editing a prompt invalidates cached
LLM blueprints.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from string import Template

__all__ = ["PROMPT_NAMES", "load_prompt", "render_prompt"]

PROMPT_NAMES = ("analyze_company", "firmographic", "technographic", "personalization")


@lru_cache(maxsize=len(PROMPT_NAMES))
def load_prompt(name: str) -> str:
    """The text of ``prompts/<name>.md``. Only the known node names are accepted (no path tricks)."""
    if name not in PROMPT_NAMES:
        raise KeyError(f"no prompt named {name!r}; known: {', '.join(PROMPT_NAMES)}")
    return (resources.files(__name__) / f"{name}.md").read_text(encoding="utf-8").strip()


def render_prompt(name: str, **values: object) -> str:
    """The prompt with ``$placeholders`` filled; a missing value is an error, not a silent gap."""
    return Template(load_prompt(name)).substitute({k: str(v) for k, v in values.items()})
