"""Training throughput under each tf.distribute strategy dlzoo offers, side by side.

Same model (LeNet-5 on the embedded digits at 32x32), same GLOBAL batch, same number
of timed steps, each configuration in its own fresh process (logical devices and
collectives must be set up before TensorFlow starts):

  default       one device, Keras fit
  mirrored      MirroredStrategy on 2 logical CPU devices, Keras fit
  mirrored_loop the same through dlzoo's distributed loop (isolates the loop's cost)
  multi_worker  2 local worker processes on 127.0.0.1 (MultiWorkerMirroredStrategy,
                gRPC collectives), dlzoo's distributed loop; timed on the chief

Reports steps/s and images/s (global batch * steps/s), the median of `--repeats`
interleaved rounds, and each mode's ratio to `default`. On a CPU-only machine the
logical devices share the same cores, so the ratios measure distribution OVERHEAD,
not speed-up; with GPUs (`--gpu`) mirrored uses every local GPU.

Usage:
  python benchmarks/distribute.py [--steps 60] [--batch 64] [--repeats 3] [--gpu]
Writes benchmarks/results/distribute.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "distribute.json"
MODES = ("default", "mirrored", "mirrored_loop", "multi_worker")


def _strategy(mode: str, gpu: bool) -> dict | str:
    if mode == "default":
        return "default"
    if mode.startswith("mirrored"):
        devices = {} if gpu else {"logical_cpus": 2}
        loop = {"loop": "custom"} if mode == "mirrored_loop" else {}
        return {"name": "mirrored", **devices, **loop}
    return {"name": "multi_worker"}


def measure(mode: str, steps: int, batch: int, gpu: bool) -> dict:
    """In this (fresh) process: build under `mode`, warm up for `steps` steps, time `steps` more."""
    import keras  # after the environment is set

    from pipelines import run as pipeline
    from pipelines.config.experiment import validate_config
    from pipelines.train.distribute.loop import fit_function

    raw = {
        "name": "bench_distribute",
        "data": {"source": "digits", "image_size": [32, 32], "batch_size": batch},
        "model": {"name": "lenet5", "params": {"activation": "relu"}},
        "train": {"strategy": _strategy(mode, gpu), "verbose": 0},
    }
    cfg = validate_config(raw, source="benchmark")
    run = pipeline.prepare(cfg, None)
    data = run.bundle.train.repeat()
    fit = fit_function(run.model, cfg.train)
    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.seconds = time.perf_counter() - self.start

    # One call, two epochs: the first traces and warms up, the second is timed. (Two
    # calls would time the loop's tracing: dlzoo's loop compiles its step per call.)
    timer = EpochTimer()
    fit(data, epochs=2, steps_per_epoch=steps, verbose=0, callbacks=[timer])
    seconds = timer.seconds
    replicas = run.model.distribute_strategy.num_replicas_in_sync
    return {"steps_per_s": steps / seconds, "images_per_s": steps * batch / seconds,
            "replicas": replicas, "seconds": seconds}


def _run_child(mode: str, args, env: dict) -> dict:
    cmd = [sys.executable, __file__, "--child", mode, "--steps", str(args.steps),
           "--batch", str(args.batch)] + (["--gpu"] if args.gpu else [])
    if mode != "multi_worker":
        out = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
        return _result(out.stdout, out.stderr)
    from pipelines.train.distribute.multiworker import _free_ports

    ports = _free_ports(2)
    procs = []
    for i in range(2):
        tf_config = {"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                     "task": {"type": "worker", "index": i}}
        procs.append(subprocess.Popen(cmd, env={**env, "TF_CONFIG": json.dumps(tf_config)},
                                      cwd=ROOT, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    outputs = [p.communicate() for p in procs]
    return _result(*outputs[0])  # the chief's timing (the workers run in lockstep)


def _result(stdout: str, stderr: str) -> dict:
    lines = [ln for ln in stdout.splitlines() if ln.startswith("RESULT ")]
    if not lines:
        raise RuntimeError(f"benchmark child failed:\n{stderr[-3000:]}")
    return json.loads(lines[-1].removeprefix("RESULT "))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch", type=int, default=64, help="global batch")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--gpu", action="store_true", help="mirrored on the local GPUs")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    if not args.gpu:
        env["CUDA_VISIBLE_DEVICES"] = ""
    if args.child:
        os.environ.update(env)
        print("RESULT " + json.dumps(measure(args.child, args.steps, args.batch, args.gpu)))
        return
    rounds = {mode: [] for mode in MODES}
    for _ in range(args.repeats):  # interleaved, so load changes hit every mode alike
        for mode in MODES:
            rounds[mode].append(_run_child(mode, args, env))
            print(mode, f"{rounds[mode][-1]['steps_per_s']:.2f} steps/s", flush=True)
    report(rounds, args)


def report(rounds: dict, args) -> None:
    base = statistics.median(r["steps_per_s"] for r in rounds["default"])
    results = {}
    for mode, runs in rounds.items():
        steps = statistics.median(r["steps_per_s"] for r in runs)
        results[mode] = {
            "replicas": runs[0]["replicas"],
            "steps_per_s": round(steps, 3),
            "images_per_s": round(steps * args.batch, 1),
            "ratio_to_default": round(steps / base, 3),
            "all_steps_per_s": [round(r["steps_per_s"], 3) for r in runs],
        }
    out = {
        "benchmark": "distribute",
        "model": "lenet5 on digits 32x32",
        "global_batch": args.batch,
        "timed_steps": args.steps,
        "repeats": args.repeats,
        "gpu": bool(args.gpu),
        "note": ("CPU only (no GPU in this session): mirrored = 2 logical devices on the "
                 "same cores, multi_worker = 2 processes on the same machine, so the "
                 "ratios are distribution overhead, not speed-up" if not args.gpu else
                 "mirrored over the local GPUs"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "load_average_1m": round(os.getloadavg()[0], 2)},
        "results": results,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
