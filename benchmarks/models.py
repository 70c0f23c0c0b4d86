"""Training throughput and peak memory of every catalog image model on CPU.

Each model runs in its own Python process (so its peak RSS is its own): build it with
its default (paper) widths at a fixed small input, 32x32x3 (the smallest size a model
accepts when that is larger: alexnet 67, googlenet 65), 10 classes (4 for
segmentation), wrap and compile it through its pipeline task, take 2 warm-up steps
(graph tracing), then time `--steps` training steps on one batch of `--batch` random
images. Reported per model: parameters, images/s, ms per step, build and warm-up
seconds, peak RSS (ru_maxrss) and its growth over the process after imports.

Usage:
  python benchmarks/models.py [--steps 10] [--batch 32] [--models resnet20,vgg11]
Writes benchmarks/results/models.json (with --models, only those rows are replaced).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "models.json"
ROOT = Path(__file__).resolve().parents[1]
MIN_SIZE = {"alexnet": 67, "googlenet": 65}
EXTRA_PARAMS = {"transfer": {"backbone": "MobileNetV2", "mode": "fine_tune"}}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def measure(name: str, steps: int, batch: int) -> dict:
    """Build, warm up and time one model (in this process)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np

    from models.catalog import build_model, get_spec
    from pipelines.data.spec import DataSpec
    from pipelines.tasks.base import task_for

    base_rss = peak_rss_mb()
    task_name = get_spec(name).task
    size = MIN_SIZE.get(name, 32)
    classes = 4 if task_name == "segment" else 10
    spec = DataSpec(
        task="segment" if task_name == "segment" else "classify",
        input_shape=(size, size, 3),
        raw_dtype="float32",
        input_range=(0.0, 1.0),
        class_names=tuple(map(str, range(classes))),
        normalize="none",
    )
    t0 = time.perf_counter()
    core = build_model(name, inputs=spec.builder_inputs(), params=EXTRA_PARAMS.get(name, {}))
    task = task_for(task_name, spec)
    model = task.assemble(core, spec)
    task.compile(model, keras.optimizers.SGD(1e-3), spec)
    built = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    x = rng.random((batch, size, size, 3), dtype=np.float32)
    y = rng.integers(0, classes, (batch, size, size) if task_name == "segment" else (batch,))
    t0 = time.perf_counter()
    for _ in range(2):
        model.train_on_batch(x, y)
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    elapsed = time.perf_counter() - t0
    return {
        "model": name,
        "task": task_name,
        "input": [size, size, 3],
        "params": int(core.count_params()),  # the network (a task wrapper may be unbuilt)
        "images_per_s": round(batch * steps / elapsed, 1),
        "ms_per_step": round(1000 * elapsed / steps, 1),
        "build_s": round(built, 2),
        "warmup_s": round(warm, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_growth_mb": round(peak_rss_mb() - base_rss, 1),
    }


def catalog() -> list[str]:
    from models.catalog import list_models

    return [n for t in ("classify", "classify_aux", "segment") for n in list_models(task=t)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--models", default="", help="comma-separated (default: all)")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)  # child process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.steps, args.batch)))
        return
    names = [n for n in args.models.split(",") if n] or catalog()
    rows = []
    for name in names:
        cmd = [
            sys.executable,
            __file__,
            "--one",
            name,
            "--steps",
            str(args.steps),
            "--batch",
            str(args.batch),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        if done.returncode:
            rows.append({"model": name, "error": done.stderr.strip().splitlines()[-1:]})
        else:
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    if args.models and RESULTS.exists():  # a partial rerun updates those models' rows
        fresh = {row["model"]: row for row in rows}
        old = json.loads(RESULTS.read_text())["models"]
        rows = [fresh.pop(row["model"], row) for row in old] + list(fresh.values())
    write(rows, args)


def write(rows: list[dict], args: argparse.Namespace) -> None:
    import tensorflow as tf

    from common.io import write_json

    write_json(
        RESULTS,
        {
            "benchmark": "catalog models: training throughput and peak memory on CPU",
            "batch": args.batch,
            "timed_steps": args.steps,
            "machine": {
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
                "tensorflow": tf.__version__,
            },
            "note": "one process per model; load from other processes on the machine "
            "lowers images/s",
            "models": rows,
        },
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
