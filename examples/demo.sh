#!/usr/bin/env bash
# The offline demo: every step runs on data shipped inside the package (pets-mini: 100 cats + 100 dogs;
# digits: scikit-learn's 8x8 digits) and the ImageNet weights of the efficientnet-lite0 package.
# Nothing is downloaded. Outputs go to $DEMO_OUT (default demo-out/); a second run starts afresh.
# Every model trained here learns: tests/test_demo.py runs these same train commands and checks the accuracies.
set -euo pipefail
OUT=${DEMO_OUT:-demo-out}
PETS=$(python -c 'from convlens.data.builtin import pets_mini_path; print(pets_mini_path())')
CAT="$PETS/cat.1900.jpg"
DOG="$PETS/dog.1907.jpg"
rm -rf "$OUT"
mkdir -p "$OUT"
START=$SECONDS
step() { printf '\n\033[1m== %s\033[0m  (at %s s)\n' "$*" "$((SECONDS - START))"; }
# every command says how long it took (progress bars show while it runs, in a terminal)
convlens() { local t=$SECONDS; command convlens "$@"; printf '\033[2m   (%s s)\033[0m\n' "$((SECONDS - t))"; }

step "1. Split the built-in pool (natural order, 60/20/20 per class) and inspect it"
convlens split pets-mini "$OUT/pets" --train 60 --val 20 --test 20
convlens data info "$OUT/pets"
convlens data augment-preview "$CAT" --out "$OUT/augment-preview.png" --count 8

step "2. Networks: the seed's small convnet, and Lite0 top-3 with its offline ImageNet weights"
convlens summary small_convnet
convlens predict "$CAT" "$DOG" --model efficientnet_lite0 --topk 3

step "3. From scratch: seed 003's MNIST net on digits (2 epochs, then resumed to 3), evaluate"
convlens train digits --model mnist_cnn --channels 1 --image-size 28 --batch-size 64 --epochs 2 \
  --optimizer adam --lr 1e-3 --out "$OUT/runs/digits"
convlens train digits --model mnist_cnn --channels 1 --image-size 28 --batch-size 64 --epochs 3 \
  --optimizer adam --lr 1e-3 --out "$OUT/runs/digits" --resume
convlens evaluate "$OUT/runs/digits"

step "4. Transfer learning: Lite0 features of the pets cached once, a dense head trained on them, evaluate"
# 120 training photos are too few to learn cats vs dogs from scratch (the book's small convnet stays at
# chance on them, measured in the README); features of a network trained on ImageNet make them enough.
convlens train "$OUT/pets" --base efficientnet_lite0 --mode features --image-size 224 --epochs 5 --lr 2e-5 \
  --dropout 0.5 --out "$OUT/runs/pets-features"
convlens evaluate "$OUT/runs/pets-features"

step "5. What the networks look at: activations, filter patterns, Grad-CAM, Score-CAM, guided Grad-CAM"
convlens activations "$CAT" --checkpoint "$OUT/runs/pets-features" --out "$OUT/activations"
convlens filters --model efficientnet_lite0 --count 16 --steps 10 --out "$OUT/filters"
convlens explain "$CAT" --checkpoint "$OUT/runs/pets-features" --method gradcam,scorecam-fast,guided-gradcam \
  --out "$OUT/explain"
mkdir -p "$OUT/four-dogs"
cp "$OUT"/pets/test/dog/dog.198[0-3].jpg "$OUT/four-dogs/"
convlens explain "$OUT/four-dogs" --checkpoint "$OUT/runs/pets-features" --method gradcam,gradcam++ \
  --evaluate --no-figures --out "$OUT/explain-eval"

step "6. An HTML report of each run: curves, evaluation, confusion cells and top losses with Grad-CAM"
for run in "$OUT"/runs/*; do convlens report "$run"; done

step "Done in $((SECONDS - START)) s: outputs in $OUT/"
python - "$OUT/runs" <<'EOF'
import json, sys
from pathlib import Path

print(f"{'run':14s} {'model':20s} {'test images':>11s} {'accuracy':>9s} {'chance':>7s}")
for run in sorted(Path(sys.argv[1]).iterdir()):
    metrics = json.loads((run / "metrics_test.json").read_text())
    config = json.loads((run / "config.json").read_text())
    model = config["train"].get("base") or config["train"]["model"]
    chance = 1 / len(metrics["classes"])
    print(f"{run.name:14s} {model:20s} {metrics['count']:11d} {metrics['accuracy']:9.3f} {chance:7.2f}")
EOF
echo "Reports: $OUT/runs/*/report.html (open one in a browser)."
echo "Later, browse the runs in the web app: convlens serve --runs $OUT/runs"
