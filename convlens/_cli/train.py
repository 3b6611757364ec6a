"""`convlens train` and `convlens evaluate`: thin commands over convlens.train."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from convlens._cli._output import echo
from convlens._cli._typer import views_help, with_lazy_help

_MODES = "scratch | features | frozen | finetune"


def train_command(
    ctx: typer.Context,
    data: str = typer.Argument(
        ...,
        metavar="DATA",
        help="Data: a built-in name (pets-mini, digits), a split folder, or a class-folder root.",
    ),
    model: str = typer.Option(
        "small_convnet", "--model", "-m", help="Model name (see `convlens models list`)."
    ),
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Run folder for checkpoints, history and curves.")
    ] = Path("runs/run"),
    config_file: Annotated[
        Path | None, typer.Option("--config", help="YAML or JSON file of options (CLI options win).")
    ] = None,
    image_size: int | None = typer.Option(
        None,
        help="Input side in pixels (default: the network's own: 150 small_convnet, 224 efficientnet_lite0).",
    ),
    batch_size: int = typer.Option(20, help="Images per step (per process under torchrun)."),
    epochs: int | None = typer.Option(
        None,
        help="Epochs (a resumed run continues up to this; default 30, finetune 10 after the head epochs).",
    ),
    optimizer: str = typer.Option("rmsprop", help="rmsprop | adam | adamw | sgd."),
    lr: float | None = typer.Option(
        None, help="Learning rate (default by --mode: 1e-4 scratch and features, 2e-5 frozen, 1e-5 finetune)."
    ),
    augment: str | None = typer.Option(None, help="Augmentation preset for training data (book)."),
    dropout: float = typer.Option(0.0, help="Dropout before the dense layer (book: 0.5)."),
    seed: int = typer.Option(0, help="Seed of every random generator."),
    precision: str = typer.Option("auto", help="auto (bf16 where the CPU/GPU gains) | bf16 | fp32."),
    loss: str = typer.Option("auto", help="auto (from the number of classes) | binary | categorical."),
    early_stopping_patience: int = typer.Option(
        0, "--early-stopping", help="Stop after N epochs without a better val_loss."
    ),
    base: str | None = typer.Option(
        None, help="Pretrained base for transfer learning (efficientnet_lite0, vgg16)."
    ),
    mode: str = typer.Option("scratch", help=_MODES),
    head_epochs: int | None = typer.Option(
        None, help="finetune: epochs of the head on cached features first (default 30; 0 with --init-from)."
    ),
    unfreeze_from: str | None = typer.Option(
        None,
        help="finetune: first layer to train again (default: the base's last block; vgg16 block5_conv1).",
    ),
    init_from: Annotated[
        Path | None, typer.Option(help="Start from this run's weights (a features or frozen run).")
    ] = None,
    val_fraction: float | None = typer.Option(None, help="Validation share for a flat class-folder root."),
    channels: int = typer.Option(3, help="3 for colour, 1 for grey images."),
    resume: bool = typer.Option(
        False, "--resume", help="Continue the run in --out exactly where it stopped."
    ),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace an earlier run of the same model in --out."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bars (on by default)."),
    tensorboard: bool = typer.Option(
        False,
        "--tensorboard",
        help="Also write TensorBoard events (curves, augmentation, Grad-CAM) to --out/tb.",
    ),
    report: bool = typer.Option(
        False, "--report", help="Write RUN/report.html at the end (convlens evaluate RUN refreshes it)."
    ),
    init: str = typer.Option(
        "torch",
        help="Initial weights from scratch: torch (PyTorch's defaults) | keras (Glorot-uniform, zero bias).",
    ),
    schedule: str = typer.Option(
        "constant", help="Learning rate per step: constant (book) | cosine | onecycle."
    ),
    warmup_epochs: float = typer.Option(
        0.0, help="Epochs of warm-up (onecycle: its rising phase, default 30 %)."
    ),
    weight_decay: float | None = typer.Option(
        None, help="Weight decay (default: the optimizer's; 0, or 1e-2 for adamw)."
    ),
    label_smoothing: float = typer.Option(0.0, help="Move training targets this share towards uniform."),
    target_accuracy: float | None = typer.Option(
        None, help="Stop once validation accuracy reaches this (0.82); if never, keep the best checkpoint."
    ),
    recipe: str | None = typer.Option(
        None,
        help="A named preset for the options you do not give: "
        "book (the seed's: RMSprop 1e-4, 160 epochs, ...) | fast (Adam one-cycle 1e-3, batch 32, 80 epochs, "
        "--normalize dataset, ...).",
    ),
    compile: bool = typer.Option(
        False, "--compile", help="Compile the training step (torch.compile; kernels cached for the next run)."
    ),
    prefetch: int = typer.Option(
        0, help="Batches made ahead in a background thread while a step runs (default 0: off)."
    ),
    ema: float | None = typer.Option(
        None,
        help="Validate and save a moving average of the weights, this decay per step (0.995 spans ~200 steps).",
    ),
    normalize: str = typer.Option(
        "none",
        help="Inputs from scratch: none (pixels 0-1, the seed's) | dataset (each channel standardised by the "
        "training photos' mean/std, kept in the checkpoint).",
    ),
    val_every: int = typer.Option(
        1,
        help="Validate after every N-th epoch and the last (default 1: every epoch); best/, --early-stopping "
        "and --target-accuracy judge the validated epochs.",
    ),
) -> None:
    """Train a classifier (scratch or transfer learning); writes checkpoints, history.csv and curves.png to --out."""
    from convlens.data.builtin import check_source

    check_source(data)  # a missing folder is refused before torch is imported
    from convlens import service
    from convlens.train import TrainConfig

    # every parameter is named after its TrainConfig field, so the options map one to one
    options = {k: str(v) if isinstance(v, Path) else v for k, v in ctx.params.items() if k != "config_file"}
    given = {k: v for k, v in options.items() if ctx.get_parameter_source(k).name != "DEFAULT"}
    config = (
        TrainConfig.from_file(config_file, **given) if config_file else TrainConfig(**options, given=given)
    )
    run = service.train(config)
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun only rank 0 reports
        return
    metrics = {k: v for k, v in run.last.items() if k != "epoch" and isinstance(v, float)}  # not "resumed"
    last = "  ".join(f"{k} {v:.3g}" if k == "lr" else f"{k} {v:.4f}" for k, v in metrics.items())
    echo(f"{run.out}: {len(run.history)} epochs  {last}")
    if run.report is not None:
        echo(f"report: {run.report}")


def evaluate_command(
    run: Annotated[Path, typer.Argument(metavar="RUN", help="A run folder written by `convlens train`.")],
    split: str = typer.Option("test", help="train | validation | test."),
    data: str | None = typer.Option(
        None, help="Other data with the same classes: a split folder or any folder of class sub-folders."
    ),
    class_map: str | None = typer.Option(
        None, "--class-map", help="Folder names to the run's class names: cats=cat,dogs=dog."
    ),
    tta: str = typer.Option("none", "--tta", help="Test-time views to average (see below)."),
    no_progress: bool = typer.Option(False, "--no-progress", help="No progress bars."),
) -> None:
    """Accuracy, loss, per-class precision/recall/F1, confusion matrix and top-loss gallery into RUN/metrics.json."""
    from convlens import service

    options = service.EvaluateOptions(
        run, split, data, service.parse_class_map(class_map), not no_progress, tta=tta
    )
    metrics = service.evaluate(options).metrics
    views = "" if tta == "none" else f" (averaged over --tta {tta})"
    echo(
        f"{split}{views}: accuracy {metrics['accuracy']:.4f}  loss {metrics['loss']:.4f}  ({metrics['count']} images)"
    )
    for name, s in metrics["per_class"].items():
        echo(f"  {name:>12}  precision {s['precision']:.3f}  recall {s['recall']:.3f}  f1 {s['f1']:.3f}")
    if metrics["most_confused"]:
        echo(
            "most confused (actual -> predicted: count): "
            + ", ".join(f"{t} -> {p}: {n}" for t, p, n in metrics["most_confused"][:5])
        )
    echo(
        f"written: {run / 'metrics.json'}, {run / metrics['confusion_matrix_png']}, {run / metrics['top_losses_png']}"
    )


def register(app: typer.Typer) -> None:
    """Add this area's commands to the root app."""
    app.command("train")(train_command)
    app.command("evaluate", cls=with_lazy_help(tta=views_help))(evaluate_command)
