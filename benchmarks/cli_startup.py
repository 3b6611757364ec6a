"""How long the command line takes to answer: ``--help`` and errors, hyperfine-style repeated runs.

    nice .venv/bin/python benchmarks/cli_startup.py [--runs 10] [--warmup 1] [--tree OLD_CHECKOUT ...]

Each command is a fresh ``python -m convlens ...`` process (the interpreter's own start-up included), run
``--warmup`` times unmeasured (to warm the file cache), then ``--runs`` times. With ``--tree`` the same commands
also run from other checkouts (e.g. ``git worktree add /tmp/before <commit>``), *interleaved* run by run with
this one, so that before and after see the same load. Prints mean ± standard deviation, min and max per
command and tree, and the load average before and after: on a shared machine the load decides the figure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
COMMANDS = {
    "--help": ["--help"],
    "--version": ["--version"],
    "train --help": ["train", "--help"],
    "trian (unknown command)": ["trian"],
    "train (missing DATA)": ["train"],
    "train nonexistent": ["train", "nonexistent"],
    "summary small_convnt": ["summary", "small_convnt"],
}


def run_once(tree: Path, args: list[str]) -> float:
    """Wall-clock seconds of one ``python -m convlens ARGS`` whose ``convlens`` is the one in ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree), "COLUMNS": "80"}
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "convlens", *args], cwd=tree, env=env, capture_output=True, check=False
    )
    return time.perf_counter() - start


def time_command(trees: list[Path], args: list[str], runs: int, warmup: int) -> dict[Path, list[float]]:
    """``runs`` measured processes per tree, alternating trees run by run, after ``warmup`` unmeasured ones."""
    times: dict[Path, list[float]] = {tree: [] for tree in trees}
    for i in range(warmup + runs):
        for tree in trees:
            seconds = run_once(tree, args)
            if i >= warmup:
                times[tree].append(seconds)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--tree", type=Path, action="append", default=[], help="Another checkout to compare.")
    parser.add_argument("--only", help="Run only the commands whose label contains this text.")
    args = parser.parse_args()
    trees = [tree.resolve() for tree in args.tree] + [HERE]
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'command':26s} {'tree':24s} {'mean ± sd (s)':>16s} {'min':>7s} {'max':>7s}")
    for label, argv in COMMANDS.items():
        if args.only and args.only not in label:
            continue
        for tree, times in time_command(trees, argv, args.runs, args.warmup).items():
            sd = statistics.stdev(times) if len(times) > 1 else 0.0
            name = "this tree" if tree == HERE else str(tree)[-24:]
            print(
                f"{label:26s} {name:24s} {statistics.mean(times):8.3f} ± {sd:5.3f} "
                f"{min(times):7.3f} {max(times):7.3f}",
                flush=True,
            )
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
