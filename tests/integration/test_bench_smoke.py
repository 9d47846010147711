"""The benchmark runs end to end in its quick mode and writes every figure (no timing assertions:
numbers depend on the machine)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIGURES = {
    "cold_catalog", "cold_llm", "cache_hit_p50", "cache_hit_p99", "first_sse_p50", "identical_graph_runs",
    "concurrent_wall", "concurrent_errors", "concurrent_peak_rss", "llm_calls", "llm_prompt_tokens",
    "cli_cold_start", "cli_cold_start_graph",
}


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_quick_benchmark_writes_the_table_and_json(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=280, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    payload = json.loads((tmp_path / "latest.json").read_text())
    figures = {f["id"]: f for f in payload["figures"]}
    assert set(figures) == FIGURES
    for figure in figures.values():
        assert figure["measured"] and figure["goal"] and figure["verdict"] in {"pass", "**FAIL**", "—"}
        assert isinstance(figure["value"], int | float)
    assert payload["machine"]["cores"] >= 1 and payload["machine"]["python"]
    assert payload["config"]["quick"] is True

    table = (tmp_path / "latest.md").read_text()
    assert table.startswith("| Figure | Goal | Measured | Result |")
    assert table.count("\n| ") == len(FIGURES)  # one row per figure below the header and separator
    assert "Machine:" in table
    assert table in done.stdout  # the same table is printed
