"""Transfer learning with default options on data sets that are not the book's (issue #12, section 3).

Goal: with default options only (data, --base, --mode), ``--mode features`` comes within 1 point of a
logistic-regression probe fitted on the same base's pooled features at the base's input size (the best a linear
head can do), and ``--mode finetune`` beats ``--mode features``. Per data set (a split folder with train/,
validation/ and test/):

(a) probe: the base's global-average-pooled ``forward_features`` at its input size, with the preprocessing of
    training (``resolve_dataset`` at that size, the base's mean/std; the same feature cache ``--mode features``
    reads), scikit-learn ``LogisticRegression`` with C chosen on validation, accuracy on test;
(b) ``service.train(TrainConfig(data=..., base=..., mode="features", out=...))``, then ``service.evaluate`` on test;
(c) the same with ``mode="finetune"``.

Build the data sets (``convlens split``, as in benchmarks/RESULTS.md), then measure::

    nice .venv/bin/python benchmarks/transfer_defaults.py build /tmp/tl
    CONVLENS_CACHE=/tmp/tl/cache nice .venv/bin/python benchmarks/transfer_defaults.py run /tmp/tl/cifar10 \\
        [/tmp/tl/animals4] --out runs/transfer_defaults [--steps probe,features,finetune]

The probe fills the feature cache that ``--mode features`` and the head phase of ``--mode finetune`` then read
(a fresh ``CONVLENS_CACHE`` makes the probe's time include the extraction).

Each result is appended to ``OUT/results.jsonl`` (with the load average before and after) and the table is
rewritten to ``OUT/results.md``; a step already in results.jsonl is skipped (delete the line to redo it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # this checkout's convlens, also where another one is installed in the venv
CIFAR = REPO.parent / "shared/data/cifar10-small"
LOOK_ALIKE = ("cat", "deer", "dog", "horse")
C_GRID = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)


def convlens(*args: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-m", "convlens", *args], check=True, env=env)


def build(root: Path, cifar: Path = CIFAR) -> list[Path]:
    """``root/cifar10`` (10 classes, 100 train + 50 validation per class from cifar10-small/train, its test/:
    100 per class) and ``root/animals4`` (cat, deer, dog, horse: the same, 4 classes that look alike)."""
    out = []
    for name, classes in (("cifar10", None), ("animals4", LOOK_ALIKE)):
        src, dst = cifar / "train", root / name
        if classes:  # a class-folder root holding only these classes
            src = root / f"src-{name}"
            for c in classes:
                shutil.copytree(cifar / "train" / c, src / c, dirs_exist_ok=True)
        if not (dst / "split.json").exists():
            convlens("split", str(src), str(dst), "--train", "100", "--val", "50", "--test", "0")
        for c in classes or sorted(p.name for p in (cifar / "test").iterdir()):
            shutil.copytree(cifar / "test" / c, dst / "test" / c, dirs_exist_ok=True)
        out.append(dst)
    return out


def load() -> str:
    return "{:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def probe(data: Path, base: str) -> dict:
    """Logistic regression on the base's pooled features at its input size (C tuned on validation)."""
    import numpy as np
    import torch
    from sklearn.linear_model import LogisticRegression

    from convlens.train import TrainConfig
    from convlens.train._build import load_data
    from convlens.train._device import default_device, resolve_precision
    from convlens.train._models import create_model
    from convlens.train.feature_mode import split_features

    config = TrainConfig(data=str(data), base=base, mode="features", progress=False)
    precision = resolve_precision(config.precision, default_device(None))
    splits = load_data(config)
    model = create_model(config, len(splits.classes)).to(precision.device).eval()
    features = {
        k: v.numpy()
        for k, v in split_features(
            config, model, splits, precision, pool=True, names=("train", "validation", "test")
        ).items()
    }
    labels = {k: np.asarray(d.labels) for k, d in splits.items()}
    scores = []
    for c in C_GRID:
        fitted = LogisticRegression(C=c, max_iter=5000).fit(features["train"], labels["train"])
        scores.append((fitted.score(features["validation"], labels["validation"]), c, fitted))
    val, c, fitted = max(scores, key=lambda s: s[0])
    del torch
    return {
        "test_acc": fitted.score(features["test"], labels["test"]),
        "val_acc": val,
        "C": c,
        "image_size": config.image_size,
    }


def train_and_test(data: Path, base: str, mode: str, out: Path) -> dict:
    """``service.train`` with the defaults (data, base, mode, out; no progress bars), then test accuracy."""
    from convlens import service
    from convlens.train import TrainConfig

    config = TrainConfig(data=str(data), base=base, mode=mode, out=str(out), progress=False, overwrite=True)
    run = service.train(config)
    test = service.evaluate(service.EvaluateOptions(run=run.out, split="test", progress=False)).metrics
    saved = json.loads((run.out / "config.json").read_text())
    return {
        "test_acc": test["accuracy"],
        "val_acc": run.last.get("val_acc"),
        "epochs": len(run.history),
        "train_wall_s": saved.get("wall_time_s"),
        "defaults": {
            k: saved["train"][k] for k in ("image_size", "lr", "epochs", "head_epochs", "unfreeze_from")
        },
    }


def measure(data: Path, base: str, step: str, out: Path) -> dict:
    before, t0 = load(), time.perf_counter()
    if step == "probe":
        result = probe(data, base)
    else:
        result = train_and_test(data, base, step, out / f"{data.name}-{step}")
    wall = time.perf_counter() - t0
    return {
        "data": data.name,
        "step": step,
        "base": base,
        **result,
        "wall_s": round(wall, 1),
        "load_before": before,
        "load_after": load(),
    }


def table(rows: list[dict]) -> str:
    by = {(r["data"], r["step"]): r for r in rows}
    lines = [
        "| data set | probe (C) | features, defaults | finetune, defaults | wall time features / finetune | load |",
        "|---|---|---|---|---|---|",
    ]
    for name in dict.fromkeys(r["data"] for r in rows):
        p, f, t = (by.get((name, s)) for s in ("probe", "features", "finetune"))
        cell = lambda r: f"{100 * r['test_acc']:.1f} %" if r else "–"
        wall = " / ".join(f"{r['wall_s'] / 60:.1f} min" if r else "–" for r in (f, t))
        loads = ", ".join(r["load_before"].split()[0] for r in (p, f, t) if r)
        probe_cell = f"{cell(p)} (C {p['C']:g})" if p else "–"
        lines.append(f"| {name} | {probe_cell} | {cell(f)} | {cell(t)} | {wall} | {loads} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("root", type=Path)
    r = sub.add_parser("run")
    r.add_argument("data", type=Path, nargs="+")
    r.add_argument("--out", type=Path, default=Path("runs/transfer_defaults"))
    r.add_argument("--base", default="efficientnet_lite0")
    r.add_argument("--steps", default="probe,features,finetune")
    args = parser.parse_args()
    if args.command == "build":
        print("\n".join(map(str, build(args.root))))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    log = args.out / "results.jsonl"
    rows = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    for data in args.data:
        for step in args.steps.split(","):
            if any(r["data"] == data.name and r["step"] == step for r in rows):
                continue
            rows.append(measure(data.resolve(), args.base, step, args.out))
            with log.open("a") as fh:
                fh.write(json.dumps(rows[-1]) + "\n")
            print(json.dumps(rows[-1]), flush=True)
            (args.out / "results.md").write_text(table(rows))
    print(table(rows))


if __name__ == "__main__":
    main()
