#!/bin/bash
# usage: run.sh NAME [tta.py args...]  -> logs/NAME.jsonl (+ .out); one thread per run, niced
cd "$(dirname "$0")/../.." || exit 1
name=$1; shift
export CONVLENS_CACHE=${CONVLENS_CACHE:-/tmp/convlens-cache-speed}
exec nice -n 10 /work/main/.venv/bin/python benchmarks/_experiments/tta.py --name "$name" --threads 1 \
    --log benchmarks/_experiments/logs/$name.jsonl "$@" > benchmarks/_experiments/logs/$name.out 2>&1
