"""Run every benchmark module and write the figures to one JSON file.

Each module ``benchmarks/bench_*.py`` exposes ``run(quick: bool) -> dict`` returning a
JSON-serialisable dict of measurements (wall seconds, peak memory in MB, ratios to references,
pass/fail against the goal). ``--quick`` runs small sizes (for checking the harness itself).

Usage: ``python -m benchmarks.run --out benchmarks/results.json [--only NAME ...] [--quick]``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil


def machine_description() -> dict:
    return {
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "processor": platform.processor() or platform.machine(),
    }


def discover() -> list[str]:
    here = Path(__file__).parent
    return sorted(p.stem.removeprefix("bench_") for p in here.glob("bench_*.py"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results.json"))
    ap.add_argument("--only", nargs="*", default=None, help="benchmark names (bench_NAME.py)")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    names = args.only or discover()
    results: dict = {}
    if args.out.exists():  # keep figures of benchmarks not re-run this time
        results = json.loads(args.out.read_text()).get("benchmarks", {})
    failed = []
    for name in names:
        print(f"== benchmark {name}", flush=True)
        t0 = time.perf_counter()
        try:
            mod = importlib.import_module(f"benchmarks.bench_{name}")
            res = mod.run(quick=args.quick)
        except Exception as exc:  # a failing benchmark is recorded, the others still run
            res = {"error": f"{type(exc).__name__}: {exc}"}
            failed.append(name)
        res["total_wall_s"] = round(time.perf_counter() - t0, 2)
        res["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        results[name] = res
        print(json.dumps(res, indent=2, default=str), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"machine": machine_description(), "benchmarks": results}
    args.out.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(f"wrote {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
