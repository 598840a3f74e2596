"""``make bench``: run every benchmark side by side, write results/latest.json and a table.

``BENCH_QUICK=1`` runs a shorter render case (30 s songs, two runs a side) and writes
results/quick.json and quick.txt instead, leaving the full run's figures alone.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SUITES = ["bench_render", "bench_analysis", "bench_mastering", "bench_midi", "dense_master",
          "bench_soundfont", "bench_review", "bench_serve", "bench_batch", "bench_ledger"]


def _flatten(prefix: str, value: Any, rows: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else k, v, rows)
    elif isinstance(value, float):
        rows.append((prefix, f"{value:.3f}"))
    else:
        rows.append((prefix, str(value)))


def main() -> None:
    """Run the suites named on the command line (default: all)."""
    sys.path.insert(0, str(HERE))
    wanted = sys.argv[1:] or SUITES
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform()},
    }
    for name in wanted:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"== {name}", flush=True)
        t = time.perf_counter()
        results[name] = module.run(HERE / "work" / name)
        results[name]["bench_wall_s"] = time.perf_counter() - t
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    stem = "quick" if quick else "latest"
    results["quick"] = quick
    out = HERE / "results" / f"{stem}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    rows: list[tuple[str, str]] = []
    for name in wanted:
        _flatten(name, results[name], rows)
    width = max(len(k) for k, _ in rows)
    table = "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
    (HERE / "results" / f"{stem}.txt").write_text(table + "\n")
    print(table)
    print(f"\nwritten: {out}")


if __name__ == "__main__":
    main()
