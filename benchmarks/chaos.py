"""Kill dlzoo at random moments and check that nothing is lost or half-written.

`kill -9` (the whole process group) at a random moment of `dlzoo train`, `dlzoo tune`
and `dlzoo export`, N times each, then what a user does next (resume, the same tune
command, the next export), and these checks:

  train   every killed run resumes (`dlzoo train --resume RUN_DIR`) to the per-epoch
          history of an uninterrupted run, exactly (losses compared bit for bit), and
          ends finished (model.weights.h5 loads, no backup left)
  tune    the same `dlzoo tune` command, rerun after each kill, ends with every trial
          once: as many completed trials as max_trials, no trial id twice
  export  after all the kills and one last export, every version folder under
          saved_models/<name>/ is a complete SavedModel that reloads and serves, and no
          claim or temp folder is left

Usage:
  python benchmarks/chaos.py [--kills 20] [--seed 0] [--work /tmp/dlzoo-chaos]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

# Run as a script, benchmarks/ comes first on sys.path, and benchmarks/explain.py,
# tuning.py and models.py would shadow the project's packages: the root goes first.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "chaos.json"
EPOCHS = 6


def recipe(work: Path) -> dict:
    """A small run with what makes resuming hard: augmentation, a schedule, checkpoints."""
    return {
        "name": "chaos", "seed": 0, "runs_dir": str(work / "runs"),
        "data": {"source": "digits", "batch_size": 64,
                 "augment": {"translation": {"factor": 0.1}, "rotation": {"factor": 0.05}}},
        "model": {"name": "mlp", "params": {"width": 64, "depth": 2}},
        "train": {"epochs": EPOCHS, "optimizer": {"name": "adam", "learning_rate": 0.003},
                  "schedule": {"name": "cosine"}, "tensorboard": False, "verbose": 0},
        "export": {"enabled": False, "dir": str(work / "saved_models"), "name": "chaos"},
        "tune": {"params": {"model.params.width": [32, 64, 96, 128]}, "tuner": "random",
                 "max_trials": 4, "max_epochs": 2, "seed": 0},
    }


def dlzoo(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipelines.cli.main", *args]


def run(cmd: list[str], timeout: float = 900) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env=env)


def run_killed(cmd: list[str], after: float) -> bool:
    """Start `cmd`, SIGKILL its process group `after` seconds in; True if it was killed
    (False: it had already finished)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True, env=env)
    try:
        proc.wait(timeout=after)
        return False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return True


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    done = run(cmd)
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def losses(run_dir: Path) -> list[str]:
    with open(run_dir / "history.csv", newline="") as f:
        return [row["loss"] for row in csv.DictReader(f)]  # as written: exact compare


def chaos_train(args, rng: random.Random, path: Path, work: Path) -> dict:
    reference = work / "runs" / "reference"
    seconds = timed(dlzoo("train", str(path), "--run-dir", str(reference)))
    expected = losses(reference)
    out = {"uninterrupted_s": round(seconds, 1), "kills": 0, "finished_before_kill": 0,
           "resumed_exactly": 0, "mismatches": [], "unfinished": []}
    for i in range(args.kills):
        folder = work / "runs" / f"killed-{i}"
        if run_killed(dlzoo("train", str(path), "--run-dir", str(folder)),
                      rng.uniform(1.0, seconds * 1.05)):
            out["kills"] += 1
        else:
            out["finished_before_kill"] += 1
        if not (folder / "model.weights.h5").exists():
            # killed before config.yaml: a fresh start; else resume where it stopped
            resume = ["--resume", str(folder)] if (folder / "config.yaml").exists() else [
                "--run-dir", str(folder)]
            done = run(dlzoo("train", str(path), *resume))
            if done.returncode:
                out["unfinished"].append({"run": str(folder), "error": done.stderr[-400:]})
                continue
        if losses(folder) == expected and not (folder / "backup").exists():
            out["resumed_exactly"] += 1
        else:
            out["mismatches"].append(str(folder))
    return out


def chaos_tune(args, rng: random.Random, path: Path, work: Path) -> dict:
    folder = work / "tune"
    seconds = timed(dlzoo("tune", str(path), "--run-dir", str(work / "tune-reference")))
    out = {"uninterrupted_s": round(seconds, 1), "kills": 0, "searches": 0, "bad": []}
    for i in range(args.kills):
        if i % 4 == 0:  # every 4 kills, a new search
            shutil.rmtree(folder, ignore_errors=True)
            out["searches"] += 1
        out["kills"] += run_killed(dlzoo("tune", str(path), "--run-dir", str(folder)),
                                   rng.uniform(1.0, seconds * 1.05))
        if i % 4 == 3 or i == args.kills - 1:
            done = run(dlzoo("tune", str(path), "--run-dir", str(folder)))
            problem = done.stderr[-400:] if done.returncode else _trial_problem(folder)
            if problem:
                out["bad"].append({"search": i // 4, "problem": problem})
    return out


def _trial_problem(folder: Path) -> str:
    with open(folder / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    ids = [row.get("trial") or row.get("trial_id") for row in rows]
    done = [r for r in rows if (r.get("status") or "COMPLETED").upper() == "COMPLETED"]
    if len(ids) != len(set(ids)):
        return f"a trial appears twice: {ids}"
    if len(done) != 4:
        return f"{len(done)} completed trials, expected 4"
    return ""


def chaos_export(args, rng: random.Random, path: Path, work: Path) -> dict:
    trained = work / "runs" / "reference"
    if not (trained / "model.weights.h5").exists():  # --only export
        timed(dlzoo("train", str(path), "--run-dir", str(trained)))
    root = work / "saved_models" / "chaos"
    cmd = dlzoo("export", str(trained), "--name", "chaos", "--dir", str(work / "saved_models"))
    seconds = timed(cmd)
    out = {"uninterrupted_s": round(seconds, 1), "kills": 0}
    for _ in range(args.kills):
        out["kills"] += run_killed(cmd, rng.uniform(0.5, seconds * 1.05))
    timed(cmd)  # the next export cleans what the killed ones left
    check = run([sys.executable, "-c", (
        "import sys, numpy as np, tensorflow as tf\n"
        "ok = 0\n"
        "for p in sys.argv[1:]:\n"
        "    serve = tf.saved_model.load(p).signatures['serving_default']\n"
        "    serve(inputs=tf.zeros([1, 8, 8, 1], tf.uint8)); ok += 1\n"
        "print(ok)"), *[str(p) for p in sorted(root.iterdir()) if p.name.isdigit()]])
    out["versions"] = sum(1 for p in root.iterdir() if p.name.isdigit())
    out["versions_that_reload"] = int(check.stdout.strip() or 0) if not check.returncode else 0
    out["leftovers"] = sorted(p.name for p in root.iterdir() if p.name.startswith("."))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20, help="kills per command")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=Path("/tmp/dlzoo-chaos"))
    parser.add_argument("--only", choices=["train", "tune", "export"], action="append")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    path = args.work / "chaos.yaml"
    path.write_text(yaml.safe_dump(recipe(args.work), sort_keys=False))
    rng = random.Random(args.seed)
    result: dict = {"benchmark": "chaos", "kills_per_command": args.kills, "seed": args.seed}
    from common.machine import cpu

    result["machine"] = cpu()
    for name, fn in (("train", chaos_train), ("export", chaos_export), ("tune", chaos_tune)):
        if args.only and name not in args.only:
            continue
        start = time.perf_counter()
        result[name] = fn(args, rng, path, args.work)
        result[name]["total_s"] = round(time.perf_counter() - start, 1)
        print(name, json.dumps(result[name]), flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
