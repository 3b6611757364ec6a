"""Time-to-accuracy experiments for the seed nets (issue #13): small_convnet + book augmentation, mnist_cnn.

Reuses convlens' data pipeline (resolve_dataset, BatchLoader, Augmentation.preset("book")) and model factory,
with its own short training loop so that optimizer, schedule, init, batch size, label smoothing, torch.compile
and a prefetch thread can be varied freely. One JSON line per epoch goes to --log (and a summary at the end):

    cd /work/wt-speed && CONVLENS_CACHE=/tmp/convlens-cache-speed /work/main/.venv/bin/python \
        benchmarks/_experiments/tta.py --name adam_oc2e-3_b64 --opt adam --lr 2e-3 --sched onecycle \
        --bs 64 --init keras --epochs 30 --log benchmarks/_experiments/logs/adam_oc2e-3_b64.jsonl

Test accuracy is measured whenever the validation accuracy (or loss) reaches a new best, so the log always
knows the test accuracy of the checkpoint that validation would choose at that epoch ("scored once on test"
in a real run); those extra test passes are timed separately (``test_s``) and are not part of ``run_s``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import queue
import threading
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

T_START = time.perf_counter()


def load() -> float:
    return round(os.getloadavg()[0], 2)


def keras_init(model: nn.Module) -> None:
    """Keras defaults: Glorot-uniform kernels, zero biases (fan computation equals Keras' for conv/dense)."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def he_init(model: nn.Module) -> None:
    """He-uniform (fan_in, ReLU gain) weights, zero biases: variance-preserving through the ReLU stack."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_uniform_(m.weight, nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def lr_at(step: int, total: int, args) -> float:
    """Learning rate at optimizer step ``step`` of ``total`` (per-step schedule)."""
    peak = args.lr
    if args.sched == "const":
        return peak
    if args.sched == "onecycle":
        # torch OneCycleLR defaults (cos anneal), written out so that the same formula serves every optimizer
        up = max(1, int(args.pct_start * total))
        start, end = peak / args.div_factor, peak / args.div_factor / args.final_div
        if step < up:
            return start + (peak - start) * (1 - math.cos(math.pi * step / up)) / 2
        t = (step - up) / max(1, total - up)
        return end + (peak - end) * (1 + math.cos(math.pi * t)) / 2
    if args.sched == "cosine":  # linear warm-up then cosine to min_lr
        warm = int(args.warmup * total)
        if step < warm:
            return peak * (step + 1) / warm
        t = (step - warm) / max(1, total - warm)
        return args.min_lr + (peak - args.min_lr) * (1 + math.cos(math.pi * t)) / 2
    if args.sched == "linear":  # linear warm-up then linear decay to 0
        warm = int(args.warmup * total)
        if step < warm:
            return peak * (step + 1) / warm
        return peak * max(0.0, 1 - (step - warm) / max(1, total - warm))
    raise ValueError(args.sched)


def make_optimizer(model: nn.Module, args) -> torch.optim.Optimizer:
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim <= 1 else decay).append(p)
    groups = [{"params": decay, "weight_decay": args.wd}, {"params": no_decay, "weight_decay": 0.0}]
    if args.opt == "rmsprop":  # Keras RMSprop: rho 0.9, eps 1e-7
        return torch.optim.RMSprop(groups, lr=args.lr, alpha=0.9, eps=1e-7)
    if args.opt == "adam":  # L2 weight decay (coupled), as Keras' kernel_regularizer would be
        return torch.optim.Adam(groups, lr=args.lr, betas=(args.beta1, 0.999), eps=1e-7)
    if args.opt == "adamw":
        return torch.optim.AdamW(groups, lr=args.lr, betas=(args.beta1, 0.999), eps=1e-7)
    if args.opt == "sgd":
        return torch.optim.SGD(groups, lr=args.lr, momentum=0.9, nesterov=True)
    raise ValueError(args.opt)


class Prefetch:
    """Iterate ``loader`` in a background thread, ``depth`` batches ahead."""

    def __init__(self, loader, depth: int = 2) -> None:
        self.loader, self.depth = loader, depth

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        q: queue.Queue = queue.Queue(self.depth)
        done = object()

        def work() -> None:
            for item in self.loader:
                q.put(item)
            q.put(done)

        threading.Thread(target=work, daemon=True).start()
        while (item := q.get()) is not done:
            yield item


def to_eval_tensor(ds, channels_last: bool, mean=None, std=None) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.from_numpy(np.array(ds.images)).permute(0, 3, 1, 2).float().div_(255)
    if mean is not None:
        x = (x - mean) / std
    x = x.contiguous(memory_format=torch.channels_last) if channels_last else x.contiguous()
    return x, torch.from_numpy(np.asarray(ds.labels)).long()


@torch.inference_mode()
def evaluate(model, xy, binary: bool, bs: int, autocast) -> tuple[float, float]:
    model.eval()
    x, y = xy
    loss_sum, correct = 0.0, 0
    for i in range(0, len(x), bs):
        xb, yb = x[i : i + bs], y[i : i + bs]
        with autocast():
            out = model(xb)
        out = out.float()
        if binary:
            out = out.reshape(-1)
            loss_sum += F.binary_cross_entropy_with_logits(out, yb.float(), reduction="sum").item()
            correct += int(((out > 0).long() == yb).sum())
        else:
            loss_sum += F.cross_entropy(out, yb, reduction="sum").item()
            correct += int((out.argmax(1) == yb).sum())
    model.train()
    return loss_sum / len(x), correct / len(x)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--name", required=True)
    p.add_argument("--task", choices=["cats", "mnist"], default="cats")
    p.add_argument("--data", default="/tmp/cvd_split")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--bs", type=int, default=32)
    p.add_argument("--opt", default="rmsprop")
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--sched", default="const", choices=["const", "onecycle", "cosine", "linear"])
    p.add_argument("--pct-start", type=float, default=0.3)
    p.add_argument("--div-factor", type=float, default=25.0)
    p.add_argument("--final-div", type=float, default=1e4)
    p.add_argument("--warmup", type=float, default=0.05, help="fraction of all steps")
    p.add_argument("--min-lr", type=float, default=0.0)
    p.add_argument("--beta1", type=float, default=0.9)
    p.add_argument("--wd", type=float, default=0.0)
    p.add_argument("--init", default="torch", choices=["torch", "keras", "he"])
    p.add_argument("--norm", default="none", choices=["none", "half", "data"],
                   help="input scaling after /255: none (book), half ((x-.5)/.5), data (train mean/std per channel)")
    p.add_argument("--ls", type=float, default=0.0, help="label smoothing")
    p.add_argument("--dropout", type=float, default=0.5)
    p.add_argument("--augment", default="book")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    p.add_argument("--no-channels-last", action="store_true")
    p.add_argument("--compile", action="store_true")
    p.add_argument("--prefetch", type=int, default=0, help="batches produced ahead in a thread (0: off)")
    p.add_argument("--eval-bs", type=int, default=250)
    p.add_argument("--eval-every", type=int, default=1, help="validate every k epochs (and the last 5 epochs)")
    p.add_argument("--test", default="improve", choices=["improve", "every", "end", "never"])
    p.add_argument("--stop-at-test", type=float, default=0.0, help="stop once the val-chosen test acc reaches this")
    p.add_argument("--val-fraction", type=float, default=0.2, help="mnist: share of train held out")
    p.add_argument("--log", required=True)
    args = p.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    log_path = Path(args.log)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    logf = log_path.open("w")

    def emit(rec: dict) -> None:
        logf.write(json.dumps(rec) + "\n")
        logf.flush()
        print(json.dumps(rec), flush=True)

    import convlens  # noqa: F401  (import time is part of the run)
    from convlens.data import Augmentation, BatchLoader, resolve_dataset
    from convlens.models import create

    t_import = time.perf_counter() - T_START
    t0 = time.perf_counter()
    if args.task == "cats":
        splits = resolve_dataset(args.data, image_size=(150, 150), progress=False)
        model = create("small_convnet", num_classes=1, dropout=args.dropout)
        binary, aug = True, Augmentation.preset(args.augment) if args.augment != "none" else None
    else:
        splits = resolve_dataset(args.data, image_size=None, channels=1, val_fraction=args.val_fraction,
                                 progress=False, seed=0)
        model = create("mnist_cnn", num_classes=10)
        binary, aug = False, None
    t_data = time.perf_counter() - t0
    if args.init == "keras":
        keras_init(model)
    elif args.init == "he":
        he_init(model)
    cl = not args.no_channels_last
    if cl:
        model = model.to(memory_format=torch.channels_last)
    mean = std = None
    if args.norm == "half":
        mean, std = 0.5, 0.5
    elif args.norm == "data":
        px = splits.train.images.reshape(-1, splits.train.images.shape[-1]).astype(np.float64) / 255
        mean, std = px.mean(0).tolist(), px.std(0).tolist()
    train_loader = BatchLoader(splits.train, batch_size=args.bs, shuffle=True, seed=args.seed, augment=aug,
                               channels_last=cl, mean=mean, std=std)
    loader = Prefetch(train_loader, args.prefetch) if args.prefetch else train_loader
    mt = None if mean is None else torch.tensor(mean, dtype=torch.float32).reshape(1, -1, 1, 1)
    st = None if std is None else torch.tensor(std, dtype=torch.float32).reshape(1, -1, 1, 1)
    val = to_eval_tensor(splits.validation, cl, mt, st)
    test = to_eval_tensor(splits.test, cl, mt, st)
    opt = make_optimizer(model, args)
    steps_per_epoch = len(train_loader)
    total = steps_per_epoch * args.epochs

    def autocast():
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16")

    fwd = torch.compile(model) if args.compile else model
    eps = args.ls
    emit({"event": "start", "args": vars(args), "import_s": round(t_import, 2), "data_s": round(t_data, 2),
          "n_train": len(splits.train), "n_val": len(splits.validation), "n_test": len(splits.test),
          "steps_per_epoch": steps_per_epoch, "threads": torch.get_num_threads(), "load": load()})

    best = {"val_acc": -1.0, "val_loss": math.inf, "val_loss_at_acc": math.inf}
    chosen = {"by_acc": None, "by_loss": None}
    reached = {}
    run_s = time.perf_counter() - T_START  # import + decode + setup, counted in the run time
    test_s_total = 0.0
    step = 0
    for epoch in range(args.epochs):
        train_loader.set_epoch(epoch)
        model.train()
        te = time.perf_counter(); ce = time.process_time()
        loss_sum = torch.zeros(()); correct = torch.zeros((), dtype=torch.long); seen = 0
        first_step_s = None
        for x, y in loader:
            for g in opt.param_groups:
                g["lr"] = lr_at(step, total, args)
            ts = time.perf_counter()
            with autocast():
                out = fwd(x)
            out = out.float()
            if binary:
                out = out.reshape(-1)
                target = y.float() * (1 - eps) + eps / 2 if eps else y.float()
                loss = F.binary_cross_entropy_with_logits(out, target)
                pred = (out.detach() > 0).long()
            else:
                loss = F.cross_entropy(out, y, label_smoothing=eps)
                pred = out.detach().argmax(1)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if first_step_s is None:
                first_step_s = time.perf_counter() - ts
            loss_sum += loss.detach() * len(y); correct += (pred == y).sum(); seen += len(y)
            step += 1
        train_s = time.perf_counter() - te; train_cpu = time.process_time() - ce
        rec = {"epoch": epoch + 1, "lr": round(lr_at(step - 1, total, args), 7),
               "loss": round(float(loss_sum) / seen, 4), "acc": round(int(correct) / seen, 4),
               "train_s": round(train_s, 1), "train_cpu_s": round(train_cpu, 1),
               "first_step_s": round(first_step_s, 2), "img_s": round(seen / train_s, 1),
               "img_cpu_s": round(seen / train_cpu, 1), "load": load()}
        run_s += train_s
        if (epoch + 1) % args.eval_every and epoch < args.epochs - 5:
            rec["run_s"] = round(run_s, 1)
            emit(rec)
            continue
        tv = time.perf_counter(); cv = time.process_time()
        val_loss, val_acc = evaluate(model, val, binary, args.eval_bs, autocast)
        val_s = time.perf_counter() - tv
        run_s += val_s
        rec.update({"val_loss": round(val_loss, 4), "val_acc": round(val_acc, 4), "val_s": round(val_s, 1),
                    "val_cpu_s": round(time.process_time() - cv, 1)})
        better_acc = val_acc > best["val_acc"] or (val_acc == best["val_acc"] and val_loss < best["val_loss_at_acc"])
        better_loss = val_loss < best["val_loss"]
        need_test = args.test == "every" or (args.test == "improve" and (better_acc or better_loss))
        if args.test == "end" and epoch == args.epochs - 1:
            need_test = True
        if need_test:
            tt = time.perf_counter()
            _, test_acc = evaluate(model, test, binary, args.eval_bs, autocast)
            test_s = time.perf_counter() - tt
            test_s_total += test_s
            rec["test_acc"] = round(test_acc, 4)
            rec["test_s"] = round(test_s, 1)
        if better_acc:
            best["val_acc"], best["val_loss_at_acc"] = val_acc, val_loss
            chosen["by_acc"] = {"epoch": epoch + 1, "val_acc": val_acc, "test_acc": rec.get("test_acc")}
        if better_loss:
            best["val_loss"] = val_loss
            chosen["by_loss"] = {"epoch": epoch + 1, "val_loss": val_loss, "test_acc": rec.get("test_acc")}
        rec["chosen_test"] = chosen["by_acc"]["test_acc"] if chosen["by_acc"] else None
        rec["run_s"] = round(run_s, 1)
        ct = rec["chosen_test"]
        for thr in (0.80, 0.82, 0.84, 0.85, 0.86, 0.88, 0.99, 0.992):
            if ct is not None and ct >= thr and str(thr) not in reached:
                reached[str(thr)] = {"epoch": epoch + 1, "run_s": round(run_s, 1)}
        emit(rec)
        if args.stop_at_test and ct is not None and ct >= args.stop_at_test:
            break
    emit({"event": "end", "name": args.name, "epochs_run": epoch + 1, "chosen_by_val_acc": chosen["by_acc"],
          "chosen_by_val_loss": chosen["by_loss"], "reached": reached, "run_s": round(run_s, 1),
          "extra_test_s": round(test_s_total, 1), "load": load()})


if __name__ == "__main__":
    main()
