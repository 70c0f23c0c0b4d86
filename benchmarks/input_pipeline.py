"""Is the input pipeline the bottleneck? Training steps/s of LeNet-5 fed three ways.

  (a) dlzoo's real pipeline (parallel decode/resize, cache, seeded shuffle, batch,
      prefetch(AUTOTUNE)), exactly as `pipelines.data.builder.build` makes it, in
      the steady state of epochs 2+ (the first epoch, which also fills the cache, is
      timed once and reported on its own);
  (b) the same batches pre-materialized in memory (no per-step input work at all);
  (c) a naive pipeline: sequential per-example map, no cache, no prefetch.

Target (the tf.data guide's criterion): a/b >= 0.95 (training, not input, sets the
pace) and a/c > 1. Measured side by side in one process, same model, same steps,
repeated and interleaved; each variant's median is over the rounds in which the
process had the machine's cores (see FULL_CORES). Every round, with the cores it
kept busy, is in the JSON.

Usage:
  python benchmarks/input_pipeline.py [--data-dir ../shared/datasets] [--steps 150]
  (Fashion-MNIST from <data-dir>/fashion_mnist; the embedded digits without it.)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Run as a script, benchmarks/ comes first on sys.path, and benchmarks/explain.py,
# tuning.py and models.py would shadow the project's packages: the root goes first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from pipelines.config.experiment import validate_config  # noqa: E402
from pipelines.data.builder import augmentations, build  # noqa: E402
from pipelines.tasks.assemble import build_model  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "input_pipeline.json"
# A round counts when the process kept at least this share of the cores busy: on
# this VM some `fit` calls run the whole step on one core (~14.6 steps/s, CPU time
# per step unchanged), whatever feeds them, pre-materialized batches included.
FULL_CORES = 0.75


def recipe(data_dir: str | None, batch_size: int, augment: bool) -> dict:
    data = ({"source": "idx", "params": {"path": "fashion_mnist"}, "data_dir": data_dir}
            if data_dir else {"source": "digits"})
    data.update(image_size=[32, 32], batch_size=batch_size)
    if augment:
        data["augment"] = {"flip": {}, "translation": {"factor": 0.05}}
    return {"name": "bench", "data": data, "model": {"name": "lenet5"},
            "train": {"epochs": 1, "verbose": 0}}


def naive_dataset(cfg, bundle, seed: int) -> tf.data.Dataset:
    """The textbook slow pipeline doing the same work on the same training examples:
    per-example resizing in sequence every epoch (no cache), the same augmentations,
    nothing overlapped."""
    split = bundle.raw["train"]  # already read by `build`: no second read of the files
    size = cfg.data.image_size
    ds = tf.data.Dataset.from_tensor_slices((split.x, split.y))
    ds = ds.shuffle(cfg.data.shuffle_buffer, seed=seed)
    ds = ds.map(lambda x, y: (tf.image.resize(tf.cast(x, tf.float32), size), y))
    ds = ds.batch(cfg.data.batch_size, drop_remainder=True)
    for fn in augmentations(cfg.data, bundle.spec, seed):
        ds = ds.map(fn)
    return ds


def materialized(ds: tf.data.Dataset, steps: int) -> tf.data.Dataset:
    batch = ds.element_spec[0].shape[0] or next(iter(ds))[0].shape[0]
    full = ds.unbatch().repeat().batch(batch, drop_remainder=True)
    batches = list(full.take(steps))
    xs = tf.stack([b[0] for b in batches])
    ys = tf.stack([b[1] for b in batches])
    return tf.data.Dataset.from_tensor_slices((xs, ys))  # one element = one ready batch


def timed_fit(
    model: keras.Model, ds: tf.data.Dataset, steps: int, repeat: bool = True
) -> tuple[float, float]:
    """Steps/s of one `fit`, and the cores the process kept busy meanwhile."""
    wall, cpu = time.perf_counter(), time.process_time()
    model.fit(ds.repeat() if repeat else ds, steps_per_epoch=steps, epochs=1, verbose=0,
              shuffle=False)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return steps / wall, cpu / wall


def summarize(rounds: list[tuple[float, float]], cores: int) -> dict:
    """Median steps/s over the rounds that had the machine's cores; the others too."""
    full = [sps for sps, busy in rounds if busy >= FULL_CORES * cores]
    return {
        "steps_per_s": statistics.median(full or [sps for sps, _ in rounds]),
        "full_core_rounds": len(full),
        "rounds": [{"steps_per_s": round(sps, 2), "cores_busy": round(busy, 2)}
                   for sps, busy in rounds],
    }


def measure(args: argparse.Namespace, augment: bool) -> dict:
    cfg = validate_config(recipe(args.data_dir, args.batch_size, augment), source="benchmark")
    bundle = build(cfg.data, seed=0)
    real = bundle.train
    memory = materialized(bundle.train, args.steps)
    naive = naive_dataset(cfg, bundle, seed=0)
    keras.utils.set_random_seed(0)
    model, _ = build_model(cfg, bundle.spec)
    # The first epoch decodes, resizes and fills the cache (an iterator that stops
    # part-way discards its partial cache), so it runs once, whole, and is reported
    # on its own; the steady state every later epoch sees is what (a) measures.
    first_epoch, _ = timed_fit(model, real, int(real.cardinality()), repeat=False)
    for ds in (memory, naive):  # compile the step for their input signatures
        timed_fit(model, ds, 20)
    variants = {"a_real": real, "b_in_memory": memory, "c_naive": naive}
    rounds: dict[str, list] = {k: [] for k in variants}
    for _ in range(args.repeats):  # interleaved, so drift hits all three alike
        for key, ds in variants.items():
            rounds[key].append(timed_fit(model, ds, args.steps))
    cores = os.cpu_count() or 1
    summary = {k: summarize(v, cores) for k, v in rounds.items()}
    sps = {k: v["steps_per_s"] for k, v in summary.items()}
    return {
        "dataset": "fashion_mnist (idx)" if args.data_dir else "digits (embedded)",
        "augmentation": augment,
        "batch_size": args.batch_size,
        "steps": args.steps,
        "steps_per_s": {k: round(v, 2) for k, v in sps.items()},
        "images_per_s": {k: round(v * args.batch_size, 1) for k, v in sps.items()},
        "a_real_first_epoch_steps_per_s": round(first_epoch, 2),
        "ratio_a_over_b": round(sps["a_real"] / sps["b_in_memory"], 3),
        "ratio_a_over_c": round(sps["a_real"] / sps["c_naive"], 3),
        "variants": summary,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("DLZOO_DATA_DIR"))
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()
    if args.data_dir and not (Path(args.data_dir) / "fashion_mnist").is_dir():
        parser.error(f"--data-dir {args.data_dir} has no fashion_mnist/ folder")
    result = {
        "benchmark": "input_pipeline",
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "tensorflow": tf.__version__,
            "gpu": bool(tf.config.list_physical_devices("GPU")),
        },
        "targets": {"a_over_b": ">= 0.95", "a_over_c": "> 1"},
        "without_augmentation": measure(args, augment=False),
        "with_augmentation": measure(args, augment=True),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    for key in ("without_augmentation", "with_augmentation"):
        r = result[key]
        print(f"{key}: steps/s {r['steps_per_s']}  a/b={r['ratio_a_over_b']}  "
              f"a/c={r['ratio_a_over_c']}")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
