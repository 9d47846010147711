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
    "concurrent_wall", "concurrent_errors", "concurrent_peak_rss", "concurrent_worker_rss", "llm_calls",
    "llm_prompt_tokens",
    "cli_cold_start", "cli_cold_start_graph",
    "cpu_catalog_one_page", "cpu_llm_one_page", "cpu_catalog_multi_page", "cpu_llm_multi_page",
}
# the fast-upstreams profile measures only the figures whose ratio depends on upstream latencies
LATENCY_BOUND = {"cold_catalog", "cold_llm", "concurrent_wall", "concurrent_errors", "concurrent_peak_rss",
                 "concurrent_worker_rss"}


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_quick_benchmark_writes_the_table_and_json(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=280, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    payload = json.loads((tmp_path / "latest.json").read_text())
    by_profile: dict[str, set[str]] = {}
    for figure in payload["figures"]:
        by_profile.setdefault(figure["profile"], set()).add(figure["id"])
        assert figure["measured"] and figure["goal"] and figure["verdict"] in {"pass", "**FAIL**", "—"}
        assert isinstance(figure["value"], int | float)
    assert by_profile == {"quick": FIGURES, "quick-fast": LATENCY_BOUND}
    assert payload["machine"]["cores"] >= 1 and payload["machine"]["python"]
    assert payload["config"]["quick"] is True and payload["config"]["workers"] >= 1
    assert set(payload["config"]["profiles"]) == {"quick", "quick-fast"}

    table = (tmp_path / "latest.md").read_text()
    assert table.count("| Figure | Goal | Measured | Result |") == 2  # one table per profile
    assert table.count("\n| ") == len(FIGURES) + len(LATENCY_BOUND) + 2  # the rows and the two headers
    assert "Machine:" in table and "LLM 50 ms per call" in table
    assert table in done.stdout  # the same table is printed
