"""The demo's models learn: its own split, train and evaluate commands, read from examples/demo.sh and run here
at the same settings, beat chance clearly (issue #15)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from convlens.cli import main

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo.sh"
# The least test accuracy each demo run must reach (chance: 0.10 for the 10 digits, 0.50 for cats vs dogs).
LEAST = {"digits": 0.85, "pets-features": 0.80}


def demo_commands(*verbs: str) -> list[list[str]]:
    """The demo's ``convlens VERB ...`` commands, continuation lines joined, in order."""
    text = re.sub(r"\\\n\s*", " ", DEMO.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [shlex.split(line)[1:] for line in lines if line.startswith(tuple(f"convlens {v} " for v in verbs))]


def _run(args: list[str], out: Path) -> None:
    args = [a.replace("$OUT", str(out)) for a in args]
    assert main([*args, "--no-progress"] if args[0] != "split" else args) == 0, args


def test_the_demo_trains_these_runs():
    outs = [args[args.index("--out") + 1] for args in demo_commands("train")]
    assert sorted({Path(o).name for o in outs}) == sorted(LEAST)


@pytest.mark.parametrize("run", sorted(LEAST))
def test_every_demo_model_beats_chance_clearly(run, tmp_path):
    for args in demo_commands("split"):
        _run(args, tmp_path)
    for args in demo_commands("train", "evaluate"):
        if Path(args[args.index("--out") + 1] if "--out" in args else args[1]).name == run:
            _run(args, tmp_path)
    metrics = json.loads((tmp_path / "runs" / run / "metrics_test.json").read_text())
    assert metrics["accuracy"] >= LEAST[run], (run, metrics["accuracy"])


def test_the_readme_python_snippet_learns(tmp_path):
    readme = (DEMO.parents[1] / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.DOTALL)
    snippet = next(block for block in blocks if "convlens.train(" in block)
    (tmp_path / "snippet.py").write_text(snippet)
    env = {**os.environ, "PYTHONPATH": str(DEMO.parents[1])}
    subprocess.run([sys.executable, "snippet.py"], cwd=tmp_path, env=env, check=True, capture_output=True)
    metrics = json.loads((tmp_path / "work" / "runs" / "pets" / "metrics_test.json").read_text())
    assert metrics["accuracy"] >= LEAST["pets-features"] and metrics["count"] == 40
