"""``examples/quickstart.ipynb`` runs top to bottom offline, so the example cannot rot."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow

NOTEBOOK = Path(__file__).parents[2] / "examples" / "quickstart.ipynb"


def _texts(output: dict[str, Any]) -> list[str]:
    if "text" in output:
        return [output["text"]]
    data = output.get("data", {})
    return [str(data[kind]) for kind in ("text/markdown", "text/plain") if kind in data]


def test_committed_notebook_has_no_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)


def test_quickstart_notebook_executes(tmp_path: Path) -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, timeout=180, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError on the first failing cell
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "\n".join(t for o in outputs for t in _texts(o))
    assert "Wrenchly" in text
    # the Blueprint renders as Markdown in the notebook
    markdown = [o["data"]["text/markdown"] for o in outputs if "text/markdown" in o.get("data", {})]
    assert markdown and markdown[0].startswith("# Enrichment blueprint — Wrenchly")
    # the provided-ICP run kept the ICP and said what it filled in
    assert "ICP: provided ['commercial HVAC contractors'] ['Service Manager']" in text
    assert "filled from the site:" in text
    # the JSON preview is the contract's JSON
    preview = next(t for o in outputs for t in _texts(o) if t.startswith("'{\"schema_version\""))
    assert '"blueprint_id"' in preview and '"company"' in preview
    assert len(ast.literal_eval(preview)) == 500  # the repr of the first 500 characters
