"""Print the per-epoch log of tta.py runs compactly: python show.py logs/*.jsonl"""
import json
import sys
from pathlib import Path

keys = ["epoch", "lr", "loss", "acc", "val_loss", "val_acc", "test_acc", "chosen_test", "img_cpu_s", "load", "run_s"]
for path in sys.argv[1:]:
    print("==", path)
    for line in Path(path).read_text().splitlines():
        r = json.loads(line)
        if "event" in r:
            if r["event"] == "end":
                print("END", {k: r[k] for k in ("chosen_by_val_acc", "chosen_by_val_loss", "reached", "run_s", "extra_test_s")})
            continue
        print(" ".join(f"{k}={r[k]}" for k in keys if r.get(k) is not None))
