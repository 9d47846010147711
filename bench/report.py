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
    profile: str = ""  # the upstream-latency profile it was measured under

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


PROFILE_TITLES = {
    "typical": "Typical upstreams (graded)",
    "fast": "Fast upstreams (stress: the latency-bound figures only)",
    "quick": "Quick (CI smoke run)",
    "quick-fast": "Quick, fast upstreams (CI smoke run)",
}


def _profile_line(name: str, profile: dict[str, Any]) -> str:
    title = PROFILE_TITLES.get(name, name)
    return (f"**{title}** — site {profile['latency_site_ms']:g} ms per page, LLM {profile['latency_llm_ms']:g} ms "
            f"per call, Apollo/Clearbit {profile['latency_provider_ms']:g} ms per call.")


def render_markdown(figures: list[Figure], info: dict[str, Any], config: dict[str, Any]) -> str:
    lines: list[str] = []
    for name, profile in config["profiles"].items():
        rows = [f for f in figures if f.profile == name]
        lines += [
            _profile_line(name, profile),
            "",
            "| Figure | Goal | Measured | Result |",
            "|---|---|---|---|",
            *(f"| {f.figure} | {f.goal} | {f.measured} | {f.verdict} |" for f in rows),
            "",
        ]
    lines += [
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory_gb']} GB RAM, Python {info['python']} "
        f"({info['platform']}).",
        f"Server: `blueprint serve --workers {config['workers']}`, the stand-ins in the benchmark's own process on "
        f"the same machine; {'quick' if config['quick'] else 'full'} run, {config['started']}.",
    ]
    return "\n".join(lines) + "\n"


def write_results(out: Path, figures: list[Figure], info: dict[str, Any], config: dict[str, Any]) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    markdown = render_markdown(figures, info, config)
    (out / "latest.md").write_text(markdown, encoding="utf-8")
    payload = {"machine": info, "config": config, "figures": [asdict(f) | {"verdict": f.verdict} for f in figures]}
    (out / "latest.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return out / "latest.md"
