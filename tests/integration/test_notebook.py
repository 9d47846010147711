"""``examples/quickstart.ipynb`` runs top to bottom offline, so the example cannot rot."""

from __future__ import annotations

import ast
import os
import re
import shlex
import shutil
import subprocess
import sys
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


def test_the_readmes_headless_notebook_command_runs(tmp_path: Path) -> None:
    """The README's `jupyter nbconvert --execute ...` line works with the dev extra installed."""
    readme = (NOTEBOOK.parents[1] / "README.md").read_text(encoding="utf-8")
    match = re.search(r"`(jupyter nbconvert [^`]+)`", readme)
    assert match, "the README shows how to run the notebook headless"
    command = shlex.split(match.group(1))
    command[command.index("--output-dir") + 1] = str(tmp_path)  # not /tmp: the test cleans up after itself
    jupyter = shutil.which("jupyter", path=os.path.dirname(sys.executable)) or shutil.which("jupyter")
    assert jupyter, "the dev extra installs jupyter (nbconvert)"
    done = subprocess.run([jupyter, *command[1:]], cwd=NOTEBOOK.parents[1], capture_output=True, text=True,
                          timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    rendered = (tmp_path / "quickstart.md").read_text(encoding="utf-8")
    assert "# Enrichment blueprint — Wrenchly" in rendered
