"""Hyperparameter search (tuning/): Hyperband vs random search, and memory across trials.

  (a) The same MLP search space on the embedded digits, searched by KerasTuner's
      random search and by Hyperband through dlzoo's own search (`tuning.jobs`),
      with the same per-trial cap (`max_epochs`) and the same total epoch budget
      (random search's max_trials * max_epochs). Hyperband runs its own schedule
      (`hyperband_iterations` iterations of its brackets) and stops when the schedule
      is done. Reported for each: the best validation score, the epochs actually
      trained (summed over trials, from the trials' own epoch counters), the epochs
      trained until the best trial finished, and, for Hyperband, KerasTuner's
      documented estimate max_epochs * (log_factor(max_epochs))^2 per iteration next
      to what one iteration really trained.
      Target: Hyperband's best within 0.5 point of random search's best, using at most
      a third of random search's epochs.
  (b) Peak resident set size (psutil, sampled every 20 ms) during each trial of a
      30-trial random search of small MLPs in this one process, and the RSS left
      after each trial (the session is cleared between trials). Flat memory = small
      growth from trial 5 to trial 30 (the first trials warm up TensorFlow's caches).
      Next to it, the floor: the same number of bare Keras build/fit/clear_session
      rounds of one small MLP in one process, no KerasTuner (TensorFlow's own growth).

Both searches run in-process (as `dlzoo tune RECIPE` without --workers), in a
temporary folder. A larger validation split than the recipes' default (0.25: 449
examples) makes one example 0.22 point, so "0.5 point" is resolvable.

Usage:
  python benchmarks/tuning.py [--max-epochs 9] [--random-trials 30] [--factor 3]
                              [--memory-trials 30] [--skip-memory] [--skip-search]
Writes benchmarks/results/tuning.json (10-25 minutes on 2 shared CPU cores); a
skipped part keeps its previous result from that file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Run as a script, benchmarks/ comes first on sys.path, where this file would shadow
# the `tuning` package: the repository root goes first.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import keras_tuner  # noqa: E402
import psutil  # noqa: E402
import tensorflow as tf  # noqa: E402

from pipelines.config.experiment import validate_config  # noqa: E402
from tuning.jobs import run_search, write_outputs  # noqa: E402
from tuning.summary import hyperband_budget  # noqa: E402
from tuning.tuners import make_tuner  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "tuning.json"

SPACE = {  # recipe key path -> range, exactly as a recipe's `tune: params:`
    "model.params.depth": {"int": [1, 3]},
    "model.params.width": [32, 64, 128, 256],
    "model.params.dropout": {"float": [0.0, 0.4], "step": 0.1},
    "model.params.activation": ["relu", "elu", "tanh"],
    "train.optimizer.learning_rate": {"float": [1.0e-4, 3.0e-2], "log": True},
}


def recipe(work: Path, name: str, tune: dict, val_fraction: float = 0.25) -> dict:
    return {
        "name": name,
        "seed": 0,
        "runs_dir": str(work / "runs"),
        "data": {"source": "digits", "val_fraction": val_fraction, "test_fraction": 0.2,
                 "batch_size": 64},
        "model": {"name": "mlp", "params": {"depth": 2, "width": 64}},
        "train": {"epochs": 9, "optimizer": {"name": "adam"}, "tensorboard": False,
                  "verbose": 0},
        "tune": tune,
    }


def search(work: Path, name: str, tune: dict) -> dict:
    """One search through tuning.jobs.run_search; its rows summarized."""
    cfg = validate_config(recipe(work, name, tune), source=f"benchmark {name}")
    start = time.perf_counter()
    outcome = run_search(cfg, run_dir=work / name, restart=True)
    seconds = time.perf_counter() - start
    rows = outcome.rows
    epochs = [float(r.get("epochs") or 0) for r in rows]
    best = outcome.best
    best_index = next(i for i, r in enumerate(rows) if r["trial"] == best["trial"])
    out = {
        "tuner": tune["tuner"],
        "trials": len(rows),
        "completed": sum(r["status"] == "COMPLETED" for r in rows),
        "best_val_accuracy": round(best["score"], 4),
        "best_trial": best["trial"],
        "best_hyperparameters": {k: v for k, v in best.items() if k in SPACE},
        "best_trial_epochs_to_best": best.get("best_epoch"),
        "epochs_used": sum(epochs),
        "epochs_until_best_trial": sum(epochs[: best_index + 1]),
        "wall_s": round(seconds, 1),
        "training_s": round(sum(float(r.get("seconds") or 0) for r in rows), 1),
        "scores": [None if r["score"] is None else round(r["score"], 4) for r in rows],
        "epochs_per_trial": epochs,
    }
    if tune["tuner"] == "hyperband":
        out["rounds"] = [r.get("round") for r in rows]
    return out


def compare(args: argparse.Namespace, work: Path) -> dict:
    e, f = args.max_epochs, args.factor
    budget = args.random_trials * e
    common = {"params": SPACE, "objective": "val_accuracy", "max_epochs": e, "seed": args.seed}
    rand = search(work, "random", {**common, "tuner": "random",
                                   "max_trials": args.random_trials})
    hb = search(work, "hyperband", {**common, "tuner": "hyperband", "factor": f,
                                    "hyperband_iterations": args.hb_iterations})
    formula = hyperband_budget(e, f)
    gap = rand["best_val_accuracy"] - hb["best_val_accuracy"]
    ratio = hb["epochs_used"] / rand["epochs_used"]
    return {
        "space": SPACE,
        "max_epochs": e,
        "factor": f,
        "hyperband_iterations": args.hb_iterations,
        "total_epoch_budget": budget,
        "hyperband_formula": "max_epochs * (log_factor(max_epochs))^2 per iteration",
        "hyperband_formula_epochs_per_iteration": round(formula, 1),
        "hyperband_actual_epochs_per_iteration": hb["epochs_used"] / args.hb_iterations,
        "random": rand,
        "hyperband": hb,
        "score_gap_points": round(100 * gap, 2),  # random best - hyperband best
        "epoch_ratio_hyperband_over_random": round(ratio, 3),
        "target": "hyperband best >= random best - 0.5 point, with <= 1/3 of its epochs",
        "target_met": bool(100 * gap <= 0.5 and ratio <= 1 / 3),
    }


class PeakRSS:
    """Samples this process's RSS in a thread; `take()` returns the peak since the
    last take and starts a new window."""

    def __init__(self, interval: float = 0.02) -> None:
        self.proc, self.interval = psutil.Process(), interval
        self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            rss = self.proc.memory_info().rss
            with self._lock:
                self.peak = max(self.peak, rss)

    def take(self) -> tuple[float, float]:
        """(peak MB in the window, current MB)."""
        now = self.proc.memory_info().rss
        with self._lock:
            peak, self.peak = max(self.peak, now), now
        return peak / 2**20, now / 2**20

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def memory(args: argparse.Namespace, work: Path) -> dict:
    """A random search of small MLPs; peak and after-trial RSS per trial.

    The same in-process path as `dlzoo tune` (tuning.tuners.make_tuner, results
    written after every trial by tuning.jobs.write_outputs), with the after-trial
    hook also reading the sampler (it runs after the session is cleared).
    """
    n = args.memory_trials
    tune = {"params": {"model.params.depth": {"int": [1, 2]},
                       "model.params.width": [16, 32, 64, 128],
                       "train.optimizer.learning_rate": {"float": [1e-3, 1e-2], "log": True},
                       "data.batch_size": [32, 64]},
            "tuner": "random", "max_trials": n, "max_epochs": args.memory_epochs,
            "seed": args.seed}
    cfg = validate_config(recipe(work, "memory", tune, val_fraction=0.1), source="benchmark")
    run_dir = work / "memory"
    run_dir.mkdir(parents=True, exist_ok=True)
    tuner = make_tuner(cfg, run_dir, overwrite=True)
    sampler = PeakRSS()
    peaks, after, highwater = [], [], []

    def after_trial(t: keras_tuner.Tuner) -> None:
        write_outputs(cfg, run_dir, t.oracle, t.hypermodel, plot=False)
        peak, now = sampler.take()
        peaks.append(round(peak, 1))
        after.append(round(now, 1))
        highwater.append(round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))

    tuner.after_trial = after_trial
    sampler.take()
    start = time.perf_counter()
    tuner.search(verbose=0)
    seconds = time.perf_counter() - start
    sampler.stop()
    k = min(5, len(peaks))  # trial 5 (1-based), or the first there is
    return {
        "trials": len(peaks),
        "epochs_per_trial": args.memory_epochs,
        "wall_s": round(seconds, 1),
        "peak_rss_mb_per_trial": peaks,
        "rss_after_trial_mb": after,
        "process_peak_rss_mb_after_trial": highwater,  # getrusage high-water mark
        "peak_growth_trial5_to_last_mb": round(peaks[-1] - peaks[k - 1], 1),
        "after_growth_trial5_to_last_mb": round(after[-1] - after[k - 1], 1),
        "peak_growth_per_trial_after_5_mb": round((peaks[-1] - peaks[k - 1])
                                                  / max(len(peaks) - k, 1), 2),
        "max_peak_mb": max(peaks),
    }


def bare_keras(args: argparse.Namespace) -> dict:
    """RSS after each of N build/fit/clear_session rounds of one MLP, no tuner."""
    import gc

    import keras

    from pipelines.data.builder import build
    from pipelines.tasks.assemble import build_model

    cfg = validate_config(
        {"name": "bare", "seed": 0,
         "data": {"source": "digits", "val_fraction": 0.1, "batch_size": 64},
         "model": {"name": "mlp", "params": {"depth": 2, "width": 64}},
         "train": {"epochs": args.memory_epochs, "verbose": 0, "tensorboard": False}},
        source="benchmark bare")
    bundle = build(cfg.data, seed=0)
    proc, after = psutil.Process(), []
    for _ in range(args.memory_trials):
        model, _ = build_model(cfg, bundle.spec)
        model.fit(bundle.train, validation_data=bundle.val, epochs=args.memory_epochs,
                  verbose=0)
        del model
        keras.backend.clear_session()
        gc.collect()
        after.append(round(proc.memory_info().rss / 2**20, 1))
    k = min(5, len(after))
    return {
        "rounds": len(after),
        "rss_after_round_mb": after,
        "after_growth_round5_to_last_mb": round(after[-1] - after[k - 1], 1),
        "growth_per_round_after_5_mb": round((after[-1] - after[k - 1])
                                             / max(len(after) - k, 1), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-epochs", type=int, default=9, help="per trial (both tuners)")
    parser.add_argument("--factor", type=int, default=3, help="Hyperband reduction factor")
    parser.add_argument("--hb-iterations", type=int, default=1)
    parser.add_argument("--random-trials", type=int, default=30)
    parser.add_argument("--memory-trials", type=int, default=30)
    parser.add_argument("--memory-epochs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1, help="search seed (models: seed 0)")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-search", action="store_true")
    args = parser.parse_args()
    result: dict = {
        "benchmark": "tuning",
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "tensorflow": tf.__version__,
            "keras_tuner": keras_tuner.__version__,
            "gpu": bool(tf.config.list_physical_devices("GPU")),
        },
        "data": "digits (embedded), val_fraction 0.25 (search), 0.1 (memory)",
    }
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for key, skipped in (("memory", args.skip_memory), ("bare_keras_memory", args.skip_memory),
                         ("hyperband_vs_random", args.skip_search)):
        if skipped and key in previous:
            result[key] = previous[key]  # kept from the last run
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dlzoo-bench-tuning-") as tmp:
        work = Path(tmp)
        if not args.skip_memory:  # first: a process that has not searched before
            result["memory"] = memory(args, work)
            m = result["memory"]
            print(f"memory: {m['trials']} trials, peak RSS trial 5 -> last grew "
                  f"{m['peak_growth_trial5_to_last_mb']} MB (max {m['max_peak_mb']} MB)")
            result["bare_keras_memory"] = bare_keras(args)
            b = result["bare_keras_memory"]
            print(f"bare Keras: {b['rounds']} rounds, RSS round 5 -> last grew "
                  f"{b['after_growth_round5_to_last_mb']} MB")
        if not args.skip_search:
            result["hyperband_vs_random"] = compare(args, work)
            c = result["hyperband_vs_random"]
            for key in ("random", "hyperband"):
                r = c[key]
                print(f"{key}: best val_accuracy {r['best_val_accuracy']} with "
                      f"{r['epochs_used']:.0f} epochs ({r['trials']} trials, {r['wall_s']} s)")
            print(f"hyperband formula {c['hyperband_formula_epochs_per_iteration']} epochs "
                  f"per iteration; target met: {c['target_met']}")
    result["total_wall_s"] = round(time.perf_counter() - start, 1)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
