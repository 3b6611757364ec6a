"""DDP with the gloo backend on the CPU: two processes under torchrun end with the same weights."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

WORKER = Path(__file__).with_name("_ddp_worker.py")


def run_group(cmd: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    """Run torchrun in its own process group so that a hang kills the workers too."""
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def test_two_ranks_agree_and_see_disjoint_shards(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        str(WORKER),
        str(tmp_path),
    ]
    done = run_group(cmd, env)
    assert done.returncode == 0, done.stderr[-3000:]
    w0, w1 = (load_file(str(tmp_path / f"rank{r}.safetensors")) for r in (0, 1))
    assert w0.keys() == w1.keys()
    assert all(torch.equal(w0[k], w1[k]) for k in w0)
    r0, r1 = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1))
    assert r0["world"] == 2 and not set(r0["shard"]) & set(r1["shard"])
    assert len(r0["shard"]) == len(r1["shard"]) == 6
    assert r0["history"] == r1["history"]  # metrics are all-reduced over the ranks
