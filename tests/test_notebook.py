"""examples/notebook.ipynb runs offline from top to bottom, and its results render themselves as HTML."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "notebook.ipynb"


def test_the_example_notebook_runs_and_renders(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    shutil.copy(NOTEBOOK, tmp_path / "notebook.ipynb")
    notebook = nbformat.read(tmp_path / "notebook.ipynb", as_version=4)
    nbclient.NotebookClient(
        notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    html = [
        output["data"]["text/html"]
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if "text/html" in output.get("data", {})
    ]
    assert len(html) == 5  # the run, the metrics, the predictions, the explanations, the map
    assert "<svg" in html[0] and "small_convnet" in html[0]
    assert "precision" in html[1] and "cat" in html[1]
    assert html[2].count("<img") == 3 and "data:image/jpeg;base64," in html[2]
    assert html[3].count("<img") == 2 and "gradcam++" in html[3]
    assert "<img" in html[4]
    assert (tmp_path / "notebook-out" / "runs" / "scratch" / "model.safetensors").is_file()
    assert not list(Path(NOTEBOOK.parent).glob("notebook-out"))  # nothing written beside the example
