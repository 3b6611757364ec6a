"""Seed 000/004 end to end on Dogs vs. Cats: scratch -> augmentation + dropout -> features -> frozen -> fine-tune.

The book's split (per class ids 0-999 train, 1000-1499 validation, 1500-1999 test) is made from the raw pool as
symlinks, each stage trains with the book's options, and every stage is evaluated on the test split. The table of
epochs, wall time and accuracies goes to ``OUT/summary.json`` and ``OUT/summary.md``.

    nice .venv/bin/python examples/cats_vs_dogs.py --out runs/cats_vs_dogs \
        [--stages scratch,augment,features,frozen,finetune] [--epochs scratch=30,augment=80,...] \
        [--augment-recipe fast|book]

The augmentation stage trains with ``--recipe fast`` (Adam one-cycle 1e-3, batch 32, Keras init, inputs standardised
by the training photos, 80 epochs; see benchmarks/RESULTS.md, "Time to the book's accuracy"); ``--augment-recipe
book`` runs the seed's RMSprop 1e-4 recipe instead, for its 320,000 images (160 passes over the 2,000 training
photos).

Targets (test accuracy): scratch >= 70 %, augmentation + dropout >= 80 %, features >= 95 %, fine-tune >= 96 %.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from convlens.data.split import split_pool
from convlens.train import TrainConfig, train
from convlens.train.evaluate import evaluate_run

REPO = Path(__file__).resolve().parents[1]
LITE0 = "efficientnet_lite0"
TRANSFER_SIZE = 224  # Lite0's native input; the book's 150 px suits VGG16

# The book's options per stage (seed 000); transfer stages use the offline Lite0 base.
STAGES: dict[str, dict] = {
    "scratch": {"model": "small_convnet", "image_size": 150, "batch_size": 20, "epochs": 30, "lr": 1e-4},
    "augment": {"model": "small_convnet", "image_size": 150, "recipe": "fast"},
    "features": {
        "base": LITE0,
        "mode": "features",
        "image_size": TRANSFER_SIZE,
        "batch_size": 20,
        "epochs": 30,
        "lr": 2e-5,
        "dropout": 0.5,
    },
    "frozen": {
        "base": LITE0,
        "mode": "frozen",
        "image_size": TRANSFER_SIZE,
        "batch_size": 20,
        "epochs": 30,
        "lr": 2e-5,
        "augment": "book",
    },
    "finetune": {
        "base": LITE0,
        "mode": "finetune",
        "image_size": TRANSFER_SIZE,
        "batch_size": 20,
        "epochs": 100,
        "lr": 1e-5,
        "augment": "book",
    },
}
# the book's recipe: 100 epochs of 100 steps x 32 images = 320,000 images, which ``--recipe book`` trains as
# 160 passes over the 2,000 training photos
BOOK_AUGMENT = {"model": "small_convnet", "image_size": 150, "recipe": "book"}
TARGETS = {"scratch": 0.70, "augment": 0.80, "features": 0.95, "frozen": None, "finetune": 0.96}


def book_split(raw: Path, out: Path) -> Path:
    """``out/data/{train,validation,test}/{cat,dog}`` as symlinks into the raw pool (idempotent)."""
    dst = out / "data"
    split_pool(raw, dst, counts=(1000, 500, 500), link="symlink", overwrite=False)
    return dst


def run_stage(
    name: str, stage: dict, data: Path, out: Path, epochs: int | None, unfreeze_from: str | None
) -> dict:
    """Train one stage with its ``stage`` options, evaluate it on the test split, return its summary row."""
    options = dict(stage)
    if epochs:
        options["epochs"] = epochs
    if name == "finetune":
        # the book fine-tunes the frozen run; a features run's head is a good start too
        start = out / "frozen" if (out / "frozen" / "model.safetensors").exists() else out / "features"
        options.update(unfreeze_from=unfreeze_from, init_from=str(start))
    config = TrainConfig(data=str(data), out=str(out / name), overwrite=True, **options)
    t0 = time.perf_counter()
    run = train(config)
    seconds = time.perf_counter() - t0
    test = evaluate_run(run.out, split="test", progress=False)
    best_val = max(row.get("val_acc", 0.0) for row in run.history)
    return {
        "stage": name,
        "epochs": len(run.history),
        "wall_s": round(seconds, 1),
        "train_acc": run.last["acc"],
        "val_acc": run.last.get("val_acc"),
        "best_val_acc": best_val,
        "test_acc": test["accuracy"],
        "target": TARGETS[name],
    }


def write_summary(out: Path, rows: list[dict]) -> None:
    (out / "summary.json").write_text(json.dumps(rows, indent=2) + "\n")
    lines = [
        "| stage | epochs | wall time | train acc | val acc | test acc | target |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        target = f">= {100 * r['target']:.0f} %" if r["target"] else "-"
        val = f"{100 * r['val_acc']:.1f} %" if r["val_acc"] is not None else "-"
        lines.append(
            f"| {r['stage']} | {r['epochs']} | {r['wall_s'] / 60:.1f} min | {100 * r['train_acc']:.1f} % | {val} | "
            f"{100 * r['test_acc']:.1f} % | {target} |"
        )
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def parse_epochs(text: str) -> dict[str, int]:
    return {k: int(v) for k, v in (item.split("=") for item in text.split(",") if item)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, default=REPO.parent / "shared/data/dogs-vs-cats/raw")
    parser.add_argument("--out", type=Path, default=REPO / "runs/cats_vs_dogs")
    parser.add_argument("--stages", default="scratch,augment,features,frozen,finetune")
    parser.add_argument("--epochs", default="", help="per-stage epochs, e.g. scratch=10,features=20")
    parser.add_argument(
        "--augment-recipe",
        choices=("fast", "book"),
        default="fast",
        help="augmentation stage: the fast one-cycle recipe (default) or the seed's RMSprop 1e-4 one",
    )
    parser.add_argument(
        "--unfreeze-from", default=None, help="finetune: first layer to train (default: Lite0's last block)"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    data = book_split(args.raw, args.out)
    epochs = parse_epochs(args.epochs)
    summary_path = args.out / "summary.json"
    rows = {r["stage"]: r for r in json.loads(summary_path.read_text())} if summary_path.exists() else {}
    stages = {**STAGES, "augment": BOOK_AUGMENT} if args.augment_recipe == "book" else STAGES
    for stage in args.stages.split(","):
        rows[stage] = run_stage(
            stage, stages[stage], data, args.out, epochs.get(stage), args.unfreeze_from or default_unfreeze()
        )
        write_summary(args.out, [rows[s] for s in STAGES if s in rows])


def default_unfreeze() -> str:
    """Lite0's last two stages (blocks 11-15 of 16), the counterpart of VGG16's ``block5_conv1`` on."""
    return "blocks.11"


if __name__ == "__main__":
    main()
