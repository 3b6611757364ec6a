#!/usr/bin/env bash
# The offline demo: every step runs on data shipped inside the package (pets-mini: 100 cats + 100 dogs;
# digits: scikit-learn's 8x8 digits) and the ImageNet weights of the efficientnet-lite0 package.
# Nothing is downloaded. Outputs go to $DEMO_OUT (default demo-out/); a second run starts afresh.
set -euo pipefail
OUT=${DEMO_OUT:-demo-out}
PETS=$(python -c 'from convlens.data.builtin import pets_mini_path; print(pets_mini_path())')
CAT="$PETS/cat.1900.jpg"
DOG="$PETS/dog.1907.jpg"
rm -rf "$OUT"
mkdir -p "$OUT"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. Split the built-in pool (natural order, 60/20/20 per class) and inspect it"
convlens split pets-mini "$OUT/pets" --train 60 --val 20 --test 20
convlens data info "$OUT/pets"
convlens data augment-preview "$CAT" --out "$OUT/augment-preview.png" --count 8

step "2. Networks: the seed's small convnet, and Lite0 top-3 with its offline ImageNet weights"
convlens summary small_convnet
convlens predict "$CAT" "$DOG" --model efficientnet_lite0 --topk 3

step "3. Train from scratch: seed 003's MNIST net on digits (2 epochs, then resumed to 3), evaluate"
convlens train digits --model mnist_cnn --channels 1 --image-size 28 --batch-size 64 --epochs 2 \
  --optimizer adam --lr 1e-3 --out "$OUT/runs/digits" --no-progress
convlens train digits --model mnist_cnn --channels 1 --image-size 28 --batch-size 64 --epochs 3 \
  --optimizer adam --lr 1e-3 --out "$OUT/runs/digits" --resume --no-progress
convlens evaluate "$OUT/runs/digits" --no-progress

step "4. Small convnet from scratch on pets-mini with the book augmentation (64 px, 2 epochs)"
convlens train "$OUT/pets" --model small_convnet --image-size 64 --epochs 2 --augment book --dropout 0.5 \
  --out "$OUT/runs/pets-scratch" --no-progress

step "5. Transfer learning: Lite0 features cached once, a dense head trained on them (5 epochs), evaluate"
convlens train "$OUT/pets" --base efficientnet_lite0 --mode features --image-size 224 --epochs 5 --lr 2e-5 \
  --dropout 0.5 --out "$OUT/runs/pets-features" --no-progress
convlens evaluate "$OUT/runs/pets-features" --no-progress

step "6. What the networks look at: activations, filter patterns, Grad-CAM and Score-CAM"
convlens activations "$CAT" --checkpoint "$OUT/runs/pets-scratch" --out "$OUT/activations"
convlens filters --model efficientnet_lite0 --count 16 --steps 10 --out "$OUT/filters"
convlens explain "$CAT" --checkpoint "$OUT/runs/pets-features" --method gradcam,scorecam-fast \
  --out "$OUT/explain" --no-progress
convlens explain "$OUT/pets/test/dog" --model efficientnet_lite0 --method gradcam,gradcam++ --evaluate \
  --no-figures --out "$OUT/explain-eval" --no-progress

step "Done: outputs in $OUT/"
ls "$OUT" "$OUT/runs"/*
