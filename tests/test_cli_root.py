import subprocess
import sys

import pytest

from convlens._registry import Registry
from convlens.cli import main
from convlens.errors import UnknownName


def test_help_runs_as_module():
    out = subprocess.run(
        [sys.executable, "-m", "convlens", "--help"], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0
    assert "convlens" in out.stdout


def test_unknown_command_is_a_usage_error(capsys):
    assert main(["no-such-command"]) == 2


def test_registry_rejects_duplicates_and_lists_choices():
    reg: Registry[int] = Registry("thing")
    reg.register("a")(1)
    with pytest.raises(ValueError):
        reg.register("a")(2)
    with pytest.raises(UnknownName, match="choose one of: a"):
        reg.get("b")
