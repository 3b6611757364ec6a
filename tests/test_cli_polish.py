"""The command line as a newcomer meets it: version, help that reads right, near-miss names, fast start-up."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from typer.main import get_command

import convlens
from convlens._registry import Registry
from convlens.cli import app, main
from convlens.errors import UnknownName

HEAVY = ("torch", "torchvision", "numpy", "PIL", "matplotlib", "safetensors")


def _commands(group=None, path=()):
    """Every (path, click command) of the CLI, groups included."""
    group = group or get_command(app)
    yield path, group
    for name, sub in getattr(group, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def _help(args: list[str], capsys) -> str:
    assert main([*args, "--help"]) == 0
    return capsys.readouterr().out


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"convlens {convlens.__version__}"


def test_importing_the_cli_imports_no_torch():
    code = f"import sys, convlens.cli; print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "args", [["--help"], ["--version"], ["train", "--help"], ["trian"], ["split"], ["train", "no-such-folder"]]
)
def test_help_and_usage_errors_import_no_torch(args):
    code = (
        "import sys\nfrom convlens.cli import main\ncode = main(sys.argv[1:])\n"
        f"assert not [m for m in sys.modules if m.split('.')[0] in {HEAVY!r}], 'heavy import'\nsys.exit(code)"
    )
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False)
    assert out.returncode in (0, 1, 2) and "heavy import" not in out.stderr, out.stderr
    if args[-1] == "no-such-folder":  # a missing DATA is refused before any heavy import
        assert out.returncode == 1 and "neither a folder nor a built-in dataset" in out.stderr + out.stdout


def test_no_help_shows_a_value_type_for_a_flag(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    for path, _command in _commands():
        if path == ("explain",):
            continue  # its help imports the explainers: checked below
        text = _help(list(path), capsys)
        assert "<bool>" not in text, f"convlens {' '.join(path)} --help shows <bool>"
        assert "--help" in text and "-h" in text


def test_explain_help_lists_every_method(capsys, monkeypatch):
    from convlens.explain.cam import explainers

    monkeypatch.setenv("COLUMNS", "300")
    text = _help(["explain"], capsys)
    assert "<bool>" not in text
    assert all(name in text for name in explainers.names())


def test_arguments_are_named_in_one_style(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    for path, command in _commands():
        arguments = [p for p in command.params if p.param_type_name == "argument"]
        for param in arguments:
            assert param.metavar and param.metavar.rstrip(".").isupper(), f"{path}: {param.name}"
        if arguments:
            usage = next(line for line in _help(list(path), capsys).splitlines() if "Usage:" in line)
            assert "{" not in usage and all(p.metavar in usage for p in arguments), usage


def test_a_missing_argument_is_named_by_its_metavar(capsys):
    assert main(["split", "pets-mini"]) == 2
    err = capsys.readouterr().err
    assert "DST" in err and "Usage: convlens split [OPTIONS] SRC DST" in err


@pytest.mark.parametrize(
    "typo,meant", [("small_convnt", "small_convnet"), ("VGG16", "vgg16"), ("mnist_cn", "mnist_cnn")]
)
def test_near_miss_model_names_get_a_suggestion(typo, meant):
    from convlens.models import registry

    with pytest.raises(UnknownName, match=f"did you mean '{meant}'"):
        registry.get(typo)


def test_near_miss_explainers_and_builtins_get_a_suggestion():
    from convlens.data import resolve_dataset
    from convlens.errors import NotAnImageFolder
    from convlens.explain.cam import explainers

    with pytest.raises(UnknownName, match="did you mean 'gradcam'"):
        explainers.get("gradcm")
    with pytest.raises(NotAnImageFolder, match="did you mean 'pets-mini'"):
        resolve_dataset("pets_mini", image_size=32)


def test_no_suggestion_for_a_far_miss():
    reg: Registry[int] = Registry("thing")
    reg.register("alpha")(1)
    with pytest.raises(UnknownName) as caught:
        reg.get("zzz")
    assert "did you mean" not in str(caught.value) and "choose one of: alpha" in str(caught.value)


def test_cli_prints_the_suggestion_as_one_red_line(capsys):
    assert main(["summary", "small_convnt"]) != 0
    err = capsys.readouterr().err
    assert "did you mean 'small_convnet'?" in err and "Traceback" not in err


def test_models_list_fits_80_columns():
    env = {**os.environ, "COLUMNS": "80"}
    out = subprocess.run(
        [sys.executable, "-m", "convlens", "models", "list"], capture_output=True, text=True, env=env, check=True
    ).stdout
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert lines[0].split() == ["name", "family", "input", "classes", "weights"]
    small = lines.index(next(line for line in lines if line.startswith("small_convnet ")))
    assert "3,453,121 params" in lines[small + 1]
