#!/usr/bin/env python3
"""Where tonghop's memory goes: one run at a size, its RSS sampled over time (main process and
read workers apart), cut at the stage boundaries from the run's summary.json.

    target/bench-venv/bin/python bench/timeline.py 200x5000      # after bench/run.py made inputs

Prints, for each stage, the peak RSS of the main process, of the workers together, and of the
tree while the stage ran. The stage boundaries are placed by adding up the stage times from the
end of the run (process exit), which attributes start-up to the first stage's "before".
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
STAGES = ["intake", "read+validate", "consolidate", "render", "deliver"]


def main() -> int:
    size = sys.argv[1] if len(sys.argv) > 1 else "18x5000"
    work = ROOT / "target" / "bench" / size
    manifest = json.loads((work / "manifest.json").read_text(encoding="utf-8"))
    shutil.rmtree(work / "out", ignore_errors=True)
    cmd = [str(ROOT / "target/release/tonghop"), "run", "--dry-run", "--config",
           manifest["config"], "--period", "2026-10"]
    samples: list[tuple[float, int, int]] = []  # (t, main rss, workers rss)
    start = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    done = threading.Event()

    def sample() -> None:
        root = psutil.Process(p.pid)
        while not done.is_set():
            try:
                main_rss = root.memory_info().rss
                workers = sum(c.memory_info().rss for c in root.children(recursive=True))
            except psutil.Error:
                main_rss, workers = 0, 0
            samples.append((time.perf_counter() - start, main_rss, workers))
            done.wait(0.02)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    p.wait()
    end = time.perf_counter() - start
    done.set()
    t.join()
    summary = json.loads((work / "out" / "2026-10" / "summary.json").read_text(encoding="utf-8"))
    tm = summary["timings"]
    # Stage boundaries, counted back from the end (after deliver only the summary is written).
    bounds, t_end = [], end
    for s in reversed(STAGES):
        bounds.append((s, t_end - tm[s], t_end))
        t_end -= tm[s]
    bounds.append(("start-up", 0.0, t_end))
    print(f"{size}: wall {end:.2f} s; peak RSS (MB) while each stage ran")
    print(f"{'stage':15} {'seconds':>8} {'main':>8} {'workers':>8} {'tree':>8}")
    for name, a, b in reversed(bounds):
        inside = [s for s in samples if a <= s[0] <= b] or [min(samples, key=lambda s: abs(s[0] - a))]
        print(f"{name:15} {b - a:8.2f} {max(s[1] for s in inside) / 1e6:8.0f} "
              f"{max(s[2] for s in inside) / 1e6:8.0f} {max(s[1] + s[2] for s in inside) / 1e6:8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
