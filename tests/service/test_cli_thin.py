"""Each CLI command is parse -> one service call -> render: short, and never orchestrating."""

from __future__ import annotations

import ast
from pathlib import Path

CLI = Path(__file__).resolve().parents[2] / "convlens" / "_cli"


def test_command_functions_are_short_and_call_the_service():
    for path in sorted(CLI.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.endswith(("_command", "predict", "summary")):
                body = node.body[1:] if isinstance(node.body[0], ast.Expr) else node.body  # the docstring
                lines = body[-1].end_lineno - body[0].lineno + 1
                assert lines <= 25, f"{path.name}:{node.name} has {lines} lines of body"
                source = ast.unparse(node)
                # `serve` starts the other front end (convlens.web), which makes the service calls itself
                assert "service." in source or node.name in ("builtins_command", "serve_command"), (
                    f"{node.name} bypasses the service"
                )


def test_the_web_layer_and_library_never_import_the_cli():
    package = CLI.parent
    for path in package.rglob("*.py"):
        if "_cli" in path.parts or path.name in ("cli.py", "__main__.py"):
            continue
        assert "convlens._cli" not in path.read_text(), f"{path} imports the CLI"
