"""Help text in the usual command-line spelling, shared by every ``blueprint`` command module."""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

__all__ = ["PlainHelp", "PlainHelpGroup"]


def _flags_without_type(params: list[Any]) -> list[Any]:
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""  # a flag takes no value: nothing to show in the type column (not "<bool>")
    return params


class PlainHelp(TyperCommand):
    """Help in the usual command-line spelling: ``WEBSITE`` in the usage line (Typer writes
    ``{website}``), and no ``<bool>`` type beside on/off flags such as ``--no-cache`` and ``--help``."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = param.metavar or (param.name or "").upper()
                pieces.append(name if param.required else f"[{name}]")
        return pieces

    def get_params(self, ctx: Any) -> list[Any]:
        return _flags_without_type(super().get_params(ctx))


class PlainHelpGroup(TyperGroup):
    def get_params(self, ctx: Any) -> list[Any]:
        return _flags_without_type(super().get_params(ctx))
