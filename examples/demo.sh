#!/usr/bin/env bash
# The offline demo: every step runs on data shipped inside the package. Outputs go to demo-out/.
set -euo pipefail
OUT=${DEMO_OUT:-demo-out}
mkdir -p "$OUT"
echo "== convlens demo: outputs in $OUT/"
convlens --help >/dev/null
