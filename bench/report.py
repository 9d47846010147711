"""Figures (name, goal, measured, pass/fail), the machine they ran on, and the Markdown/JSON output."""

from __future__ import annotations

import json
import os
import platform
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Figure", "machine", "render_markdown", "write_results"]


@dataclass
class Figure:
    id: str
    figure: str
    goal: str
    measured: str
    value: float
    passed: bool | None  # None: reported for context, no goal
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return "—" if self.passed is None else ("pass" if self.passed else "**FAIL**")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    import psutil

    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def render_markdown(figures: list[Figure], info: dict[str, Any], config: dict[str, Any]) -> str:
    lines = [
        "| Figure | Goal | Measured | Result |",
        "|---|---|---|---|",
        *(f"| {f.figure} | {f.goal} | {f.measured} | {f.verdict} |" for f in figures),
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory_gb']} GB RAM, Python {info['python']} "
        f"({info['platform']}).",
        f"Stub latencies: site {config['latency_site_ms']:g} ms per page, LLM {config['latency_llm_ms']:g} ms "
        f"per call, Apollo/Clearbit {config['latency_provider_ms']:g} ms per call; "
        f"{'quick' if config['quick'] else 'full'} run, {config['started']}.",
    ]
    return "\n".join(lines) + "\n"


def write_results(out: Path, figures: list[Figure], info: dict[str, Any], config: dict[str, Any]) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    markdown = render_markdown(figures, info, config)
    (out / "latest.md").write_text(markdown, encoding="utf-8")
    payload = {"machine": info, "config": config, "figures": [asdict(f) | {"verdict": f.verdict} for f in figures]}
    (out / "latest.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return out / "latest.md"
