"""What dlzoo's training path costs over a plain Keras script: same model, data, batch, epochs.

For each model, side by side, each case in its own fresh process:

  plain          a plain Keras 3 + tf.data script written here, the way keras.io writes
                 them (from_tensor_slices -> map -> cache -> shuffle -> batch -> prefetch;
                 model.compile / model.fit with validation_data, nothing else)
  plain_noval    the same without validation_data: what per-epoch validation costs
  dlzoo          `pipelines.api.run` on a recipe dict (what `dlzoo run` does) with every
                 default: divergence guard, history.csv, best checkpoint, BackupAndRestore,
                 TensorBoard, progress output, per-epoch validation
  no_checkpoint, no_backup, no_tensorboard, quiet (train.verbose 0), all_off:
                 dlzoo with one of its existing `train:` switches off (all_off: all four)
  (DCGAN also)   no_samples (generative.samples_every beyond the epochs: one grid at the
                 end), no_fd (generative.judge null, so no per-epoch val_fd, with
                 train.checkpoint false, which needs val_fd); all_off adds both

Models: LeNet-5 (tanh, average pooling, Adam 1e-3, batch 128) on MNIST-format idx files
(`--idx DIR`, dlzoo's `idx` source) or on the embedded digits resized to 32x32;
ResNet-20 on generated 32x32x3 arrays (10 classes, dlzoo's `arrays` source: speed, not
accuracy); DCGAN (dlzoo's `dcgan`, digits resized to 32x32, batch 64) against the
keras.io DCGAN loop (a keras.Model subclass with its own train_step) on the same
generator and discriminator networks.

Measured per case, in the child, by a callback put first in fit's list (in dlzoo's path
by wrapping `pipelines.train.fit.fit_function`, dlzoo itself unchanged): steps/s over the
steady epochs (all but the first, which traces), from each epoch's start to its last
training batch; wall seconds per steady epoch from one epoch's start to the next (so
validation and every callback's end-of-epoch work are inside); the share of 2 cores the
process kept busy, and so the CPU seconds per steady epoch (the work done: other jobs on
a shared machine stretch wall time much more than CPU time); the final test accuracy
(dlzoo: its evaluate, after restoring the best checkpoint; plain: model.evaluate of the
last weights). Rounds interleave the
cases (the order rotates each round) and each figure is the median over rounds.
Ratios are speeds, dlzoo case / plain: steps/s ratio = case / plain, wall ratio =
plain seconds per epoch / case seconds per epoch (>= 0.97: within 3% of plain Keras),
CPU ratio = plain CPU seconds per epoch / case's.

Usage:
  python benchmarks/against_keras.py [--idx DIR] [--models lenet5,resnet20,dcgan]
      [--cases plain,dlzoo,...] [--epochs 10] [--rounds 3] [--resnet-epochs 5]
      [--dcgan-epochs 5] [--resnet-images 2000] [--gpu] [--out FILE]
Writes benchmarks/results/against_keras.json (or --out).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "against_keras.json"
MODELS = ("lenet5", "resnet20", "dcgan")

# dlzoo's `train:` switches, one off per case; all_off is every one of them.
SWITCHES = {
    "no_checkpoint": {"train.checkpoint": False},
    "no_backup": {"train.backup": False},
    "no_tensorboard": {"train.tensorboard": False},
    "quiet": {"train.verbose": 0},
}
GENERATIVE_SWITCHES = {
    "no_samples": {"generative.samples_every": 1_000_000},
    "no_fd": {"generative.judge": None, "train.checkpoint": False},
}


def cases_of(model: str) -> list[str]:
    switches = {**SWITCHES, **(GENERATIVE_SWITCHES if model == "dcgan" else {})}
    plain = ["plain"] if model == "dcgan" else ["plain", "plain_noval"]  # keras.io's GAN: no val
    return [*plain, "dlzoo", *switches, "all_off"]


def overrides_of(model: str, case: str) -> dict:
    switches = {**SWITCHES, **(GENERATIVE_SWITCHES if model == "dcgan" else {})}
    if case == "all_off":
        return {k: v for change in switches.values() for k, v in change.items()}
    return switches.get(case, {})


# ---------------------------------------------------------------- the data, read plainly

def read_idx(path: Path) -> np.ndarray:
    """One MNIST-format idx file (as keras.datasets.mnist reads its own copy)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    dims = np.frombuffer(raw, ">u4", count=raw[3], offset=4).astype(int)
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * raw[3]).reshape(dims)


def idx_arrays(folder: Path) -> dict:
    def one(prefix, kind):
        return read_idx(sorted(folder.glob(f"{prefix}-{kind}-idx*-ubyte*"))[0])

    return {"x": one("train", "images")[..., None], "y": one("train", "labels").astype(np.int64),
            "x_test": one("t10k", "images")[..., None],
            "y_test": one("t10k", "labels").astype(np.int64)}


def write_synthetic(path: Path, n_train: int, n_test: int, seed: int = 0) -> None:
    """10 classes of 32x32x3 images: a smooth random template per class, shifted by up
    to 4 pixels, plus noise (learnable, but the point here is speed)."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0, 1, (10, 8, 8, 3))
    templates = coarse.repeat(4, axis=1).repeat(4, axis=2)

    def sample(n):
        y = rng.integers(0, 10, n)
        shifts = rng.integers(-4, 5, (n, 2))
        x = np.stack([np.roll(templates[c], tuple(s), axis=(0, 1)) for c, s in zip(y, shifts)])
        x = np.clip(0.7 * x + rng.normal(0, 0.2, x.shape), 0, 1)
        return (x * 255).round().astype(np.uint8), y.astype(np.int64)

    x, y = sample(n_train)
    x_test, y_test = sample(n_test)
    np.savez(path, x=x, y=y, x_test=x_test, y_test=y_test)


def plain_splits(arrays: dict, seed: int, val_fraction=0.1, test_fraction=0.2) -> dict:
    """train / val / test with scikit-learn's stratified split, at the sizes dlzoo carves."""
    from sklearn.model_selection import train_test_split  # only the children split data

    x, y = arrays["x"], arrays["y"]
    if "x_test" in arrays:
        test = (arrays["x_test"], arrays["y_test"])
    else:
        x, x_te, y, y_te = train_test_split(x, y, test_size=int(round(len(x) * test_fraction)),
                                            random_state=seed, stratify=y)
        test = (x_te, y_te)
    x, x_val, y, y_val = train_test_split(x, y, test_size=int(round(len(x) * val_fraction)),
                                          random_state=seed, stratify=y)
    return {"train": (x, y), "val": (x_val, y_val), "test": test}


def load_arrays(source: dict) -> dict:
    if source["source"] == "digits":
        from sklearn.datasets import load_digits  # only the children read data

        bunch = load_digits()
        return {"x": bunch.images.astype(np.uint8)[..., None], "y": bunch.target.astype(np.int64)}
    if source["source"] == "idx":
        return idx_arrays(Path(source["params"]["path"]))
    return dict(np.load(source["params"]["path"]))


# ---------------------------------------------------------------- the timing callback

def epoch_clock():
    import keras  # the children only: the parent never starts TensorFlow

    class EpochClock(keras.callbacks.Callback):
        """Epoch starts, last training batch ends, steps and CPU time, per epoch."""

        def __init__(self):
            super().__init__()
            self.begins, self.train_ends, self.steps, self.cpu = [], [], [], []
            self.end = None

        def on_epoch_begin(self, epoch, logs=None):
            self.begins.append(time.perf_counter())
            self.cpu.append(time.process_time())
            self.train_ends.append(None)
            self.steps.append(0)

        def on_train_batch_end(self, batch, logs=None):
            self.train_ends[-1] = time.perf_counter()
            self.steps[-1] += 1

        def on_train_end(self, logs=None):
            self.end = time.perf_counter()
            self.cpu_end = time.process_time()

        def summary(self) -> dict:
            starts = [*self.begins[1:], self.end]
            walls = [b - a for a, b in zip(self.begins, starts)]
            trains = [t - b for b, t in zip(self.begins, self.train_ends)]
            steady = slice(1, None) if len(walls) > 1 else slice(0, None)
            wall = sum(walls[steady])
            cpu = ([*self.cpu[1:], self.cpu_end][-1] - self.cpu[steady][0])
            return {
                "steps_per_s": sum(self.steps[steady]) / sum(trains[steady]),
                "s_per_epoch": wall / len(walls[steady]),
                "steps_per_epoch": self.steps[-1],
                "first_epoch_s": walls[0],
                "cores_busy": cpu / wall,
                "epoch_walls": [round(w, 3) for w in walls],
            }

    return EpochClock()


# ---------------------------------------------------------------- (a) plain Keras

def plain_classifier(setup: dict, validate: bool) -> dict:
    import keras  # the children only
    import tensorflow as tf
    from keras import layers

    from models.lenet import lenet5  # the same networks: dlzoo's builders are plain Keras
    from models.resnet import resnet20

    keras.utils.set_random_seed(0)
    splits = plain_splits(load_arrays(setup["data"]), seed=0)
    size = setup["image_size"]
    x_train = splits["train"][0]
    lo, hi = float(min(s[0].min() for s in splits.values())), float(
        max(s[0].max() for s in splits.values()))

    def prepare(x, y):
        x = tf.cast(x, "float32")
        return (tf.image.resize(x, size) if size else x), y

    def dataset(split, train=False):
        ds = tf.data.Dataset.from_tensor_slices(splits[split])
        ds = ds.map(prepare, num_parallel_calls=tf.data.AUTOTUNE).cache()
        if train:
            ds = ds.shuffle(len(splits[split][0]))
        return ds.batch(setup["batch_size"]).prefetch(tf.data.AUTOTUNE)

    shape = (*size, x_train.shape[-1]) if size else x_train.shape[1:]
    network = (lenet5(input_shape=shape, activation="tanh", pooling="avg")
               if setup["model"] == "lenet5" else resnet20(input_shape=shape, num_classes=10))
    model = keras.Sequential([keras.Input(shape), layers.Rescaling(1 / (hi - lo), -lo / (hi - lo)),
                              network])
    model.compile(optimizer=keras.optimizers.Adam(setup["learning_rate"]),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    clock = epoch_clock()
    model.fit(dataset("train", train=True), epochs=setup["epochs"],
              validation_data=dataset("val") if validate else None, callbacks=[clock])
    test = model.evaluate(dataset("test"), return_dict=True, verbose=0)
    return {**clock.summary(), "test_accuracy": float(test["accuracy"])}


def plain_dcgan(setup: dict) -> dict:
    """keras.io's "DCGAN to generate face images" loop, on dlzoo's DCGAN networks (batch
    norm: they are called with training=True, as dlzoo's own step calls them)."""
    import keras  # the children only
    import tensorflow as tf
    from keras import ops

    from models.gan_nets import conv_discriminator, conv_generator

    keras.utils.set_random_seed(0)
    x_train = plain_splits(load_arrays(setup["data"]), seed=0)["train"][0]
    size, latent_dim = setup["image_size"], setup["latent_dim"]
    half = float(x_train.max()) / 2  # digits: 0..16 -> [-1, 1], the tanh output's range

    class GAN(keras.Model):
        def __init__(self, discriminator, generator, latent_dim):
            super().__init__()
            self.discriminator = discriminator
            self.generator = generator
            self.latent_dim = latent_dim
            self.seed_generator = keras.random.SeedGenerator(1337)

        def compile(self, d_optimizer, g_optimizer, loss_fn):
            super().compile()
            self.d_optimizer = d_optimizer
            self.g_optimizer = g_optimizer
            self.loss_fn = loss_fn
            self.d_loss_metric = keras.metrics.Mean(name="d_loss")
            self.g_loss_metric = keras.metrics.Mean(name="g_loss")

        @property
        def metrics(self):
            return [self.d_loss_metric, self.g_loss_metric]

        def train_step(self, real_images):
            batch_size = ops.shape(real_images)[0]
            random_latent_vectors = keras.random.normal(
                shape=(batch_size, self.latent_dim), seed=self.seed_generator)
            generated_images = self.generator(random_latent_vectors, training=True)
            combined_images = ops.concatenate([generated_images, real_images], axis=0)
            labels = ops.concatenate([ops.ones((batch_size, 1)), ops.zeros((batch_size, 1))],
                                     axis=0)
            labels += 0.05 * tf.random.uniform(tf.shape(labels))
            with tf.GradientTape() as tape:
                predictions = self.discriminator(combined_images, training=True)
                d_loss = self.loss_fn(labels, predictions)
            grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
            self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
            random_latent_vectors = keras.random.normal(
                shape=(batch_size, self.latent_dim), seed=self.seed_generator)
            misleading_labels = ops.zeros((batch_size, 1))
            with tf.GradientTape() as tape:
                predictions = self.discriminator(
                    self.generator(random_latent_vectors, training=True), training=True)
                g_loss = self.loss_fn(misleading_labels, predictions)
            grads = tape.gradient(g_loss, self.generator.trainable_weights)
            self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
            self.d_loss_metric.update_state(d_loss)
            self.g_loss_metric.update_state(g_loss)
            return {"d_loss": self.d_loss_metric.result(), "g_loss": self.g_loss_metric.result()}

    dataset = (tf.data.Dataset.from_tensor_slices(x_train)
               .map(lambda x: tf.image.resize(tf.cast(x, "float32"), size) / half - 1.0,
                    num_parallel_calls=tf.data.AUTOTUNE)
               .cache().shuffle(len(x_train)).batch(setup["batch_size"])
               .prefetch(tf.data.AUTOTUNE))
    shape = (*size, x_train.shape[-1])
    nets = {"filters": setup["filters"], "stages": setup["stages"]}
    gan = GAN(conv_discriminator(input_shape=shape, **nets),
              conv_generator(latent_dim=latent_dim, output_shape=shape, **nets), latent_dim)
    gan.compile(d_optimizer=keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5),
                g_optimizer=keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5),
                loss_fn=keras.losses.BinaryCrossentropy(from_logits=True))
    clock = epoch_clock()
    history = gan.fit(dataset, epochs=setup["epochs"], callbacks=[clock])
    return {**clock.summary(), "final_d_loss": float(history.history["d_loss"][-1]),
            "final_g_loss": float(history.history["g_loss"][-1])}


# ---------------------------------------------------------------- (b, c) dlzoo

def recipe(setup: dict, runs_dir: str) -> dict:
    data = {**setup["data"], "batch_size": setup["batch_size"]}
    if setup["model"] == "dcgan":
        return {
            "name": "bench_against_keras_dcgan", "runs_dir": runs_dir,
            "data": {**data, "image_size": list(setup["image_size"]), "normalize": "tanh"},
            "model": {"name": "dcgan", "params": {"latent_dim": setup["latent_dim"],
                                                  "filters": setup["filters"],
                                                  "stages": setup["stages"]}},
            "train": {"epochs": setup["epochs"],
                      "optimizer": {"name": "adam", "learning_rate": 2e-4, "beta_1": 0.5}},
            "evaluate": {"enabled": False},  # FD / Parzen of 5,000-10,000 samples: not timed
            "export": {"enabled": False},
        }
    params = {"activation": "tanh", "pooling": "avg"} if setup["model"] == "lenet5" else {}
    return {
        "name": f"bench_against_keras_{setup['model']}", "runs_dir": runs_dir,
        "data": {**data, "normalize": "rescale"},
        "model": {"name": setup["model"], "params": params},
        "train": {"epochs": setup["epochs"],
                  "optimizer": {"name": "adam", "learning_rate": setup["learning_rate"]}},
        "export": {"enabled": False},
    }


def dlzoo_case(setup: dict, case: str) -> dict:
    import pipelines.train.fit as dlzoo_fit  # the children only (starts TensorFlow)
    from pipelines import api

    clocks = []
    unwrapped = dlzoo_fit.fit_function

    def timed_fit_function(model, train_cfg):
        fit = unwrapped(model, train_cfg)

        def timed(*args, callbacks=(), **kwargs):
            clocks.append(epoch_clock())
            return fit(*args, callbacks=[clocks[-1], *callbacks], **kwargs)

        return timed

    dlzoo_fit.fit_function = timed_fit_function  # measure only: dlzoo's own code unchanged
    with tempfile.TemporaryDirectory() as runs_dir:
        run = api.run(recipe(setup, runs_dir), overrides_of(setup["model"], case))
        out = clocks[-1].summary()  # the last fit: a DCGAN's judge trains before it
        if setup["model"] == "dcgan":
            out["final_d_loss"] = run.history["d_loss"][-1]
            out["final_g_loss"] = run.history["g_loss"][-1]
        else:
            out["test_accuracy"] = float(run.metrics["accuracy"])
    return out


def child(setup: dict, case: str) -> dict:
    start = time.perf_counter()
    if case == "plain":
        out = plain_dcgan(setup) if setup["model"] == "dcgan" else plain_classifier(setup, True)
    elif case == "plain_noval":
        out = plain_classifier(setup, False)
    else:
        out = dlzoo_case(setup, case)
    return {**out, "case_s": time.perf_counter() - start}


# ---------------------------------------------------------------- the parent

def setups(args, workdir: Path) -> dict:
    digits = {"source": "digits"}
    lenet_data = ({"source": "idx", "params": {"path": str(Path(args.idx).resolve())}}
                  if args.idx else digits)
    out = {
        "lenet5": {"model": "lenet5", "data": lenet_data, "image_size": [32, 32],
                   "batch_size": 128, "learning_rate": 1e-3, "epochs": args.epochs},
        "resnet20": {"model": "resnet20", "data": {"source": "arrays", "params": {
                         "path": str(workdir / "synthetic32.npz")}},
                     "image_size": None, "batch_size": 128, "learning_rate": 1e-3,
                     "epochs": args.resnet_epochs or args.epochs},
        "dcgan": {"model": "dcgan", "data": digits, "image_size": [32, 32], "batch_size": 64,
                  "latent_dim": 100, "filters": 32, "stages": 2,
                  "epochs": args.dcgan_epochs or args.epochs},
    }
    return {name: out[name] for name in args.models}


def run_child(setup: dict, case: str, env: dict) -> dict:
    cmd = [sys.executable, __file__, "--case", case, "--setup", json.dumps(setup)]
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    if done.returncode or not lines:
        raise RuntimeError(f"{setup['model']} {case} failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1].removeprefix("RESULT "))


def summarize(runs: dict) -> dict:
    for rounds in runs.values():  # CPU seconds per epoch: the work, whatever the load
        for r in rounds:
            r["cpu_s_per_epoch"] = r["cores_busy"] * r["s_per_epoch"]

    def median(case, key):
        values = [r[key] for r in runs[case] if r.get(key) is not None]
        return statistics.median(values) if values else None

    plain_steps, plain_wall = median("plain", "steps_per_s"), median("plain", "s_per_epoch")
    plain_cpu = median("plain", "cpu_s_per_epoch")
    out = {}
    for case, rounds in runs.items():
        steps, wall = median(case, "steps_per_s"), median(case, "s_per_epoch")
        cpu = median(case, "cpu_s_per_epoch")
        row = {"steps_per_s": round(steps, 3), "s_per_epoch": round(wall, 4),
               "steps_ratio": round(steps / plain_steps, 3),
               "wall_ratio": round(plain_wall / wall, 3),
               "cpu_s_per_epoch": round(cpu, 4), "cpu_ratio": round(plain_cpu / cpu, 3),
               "cores_busy": round(median(case, "cores_busy"), 2),
               "first_epoch_s": round(median(case, "first_epoch_s"), 3),
               "case_s": round(median(case, "case_s"), 2)}
        for key in ("test_accuracy", "final_d_loss", "final_g_loss"):
            if median(case, key) is not None:
                row[key] = round(median(case, key), 4)
        row["rounds"] = rounds
        out[case] = row
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idx", help="folder with the four MNIST-format idx files (LeNet-5)")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--cases", help="comma-separated subset of the cases (default: all)")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--resnet-epochs", type=int, help="default: --epochs")
    parser.add_argument("--dcgan-epochs", type=int, help="default: --epochs")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--resnet-images", type=int, default=2000,
                        help="generated 32x32x3 training images (plus a quarter as test)")
    parser.add_argument("--gpu", action="store_true", help="let TensorFlow see the GPUs")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--setup", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print("RESULT " + json.dumps(child(json.loads(args.setup), args.case)))
        return
    args.models = args.models.split(",")
    unknown = set(args.models) - set(MODELS)
    if unknown:
        parser.error(f"--models: unknown {sorted(unknown)}; known: {', '.join(MODELS)}")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT)}
    if not args.gpu:
        env["CUDA_VISIBLE_DEVICES"] = ""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if "resnet20" in args.models:
            write_synthetic(workdir / "synthetic32.npz", args.resnet_images,
                            args.resnet_images // 4)
        plan = setups(args, workdir)
        chosen = {m: [c for c in cases_of(m) if not args.cases or c in args.cases.split(",")]
                  for m in plan}
        runs = {m: {c: [] for c in cases} for m, cases in chosen.items()}
        for r in range(args.rounds):
            for model, cases in chosen.items():
                turn = r % len(cases)  # rotate, so no case always runs first or last
                for case in cases[turn:] + cases[:turn]:
                    result = run_child(plan[model], case, env)
                    runs[model][case].append(result)
                    print(f"round {r + 1} {model:8s} {case:14s} "
                          f"{result['steps_per_s']:7.2f} steps/s "
                          f"{result['s_per_epoch']:7.3f} s/epoch "
                          f"cores {result['cores_busy']:.2f}", flush=True)
    results = {m: summarize(runs[m]) for m in runs if "plain" in runs[m]}
    out = {
        "benchmark": "against_keras",
        "settings": plan,
        "rounds": args.rounds,
        "gpu": bool(args.gpu),
        "ratios": "steps_ratio = case steps/s / plain; wall_ratio = plain s/epoch / case "
                  "(>= 0.97: within 3% of plain Keras); cpu_ratio = plain CPU s/epoch / "
                  "case (the work done, less sensitive to other jobs); medians over rounds",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "load_average_1m": round(os.getloadavg()[0], 2)},
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    for model, rows in results.items():
        print(f"\n{model}: ratio to plain Keras (steps/s, wall and CPU per epoch)")
        for case, row in rows.items():
            extra = (f" test acc {row['test_accuracy']:.4f}" if "test_accuracy" in row else "")
            print(f"  {case:14s} {row['steps_per_s']:7.2f} steps/s x{row['steps_ratio']:.3f}  "
                  f"{row['s_per_epoch']:7.3f} s/epoch x{row['wall_ratio']:.3f}  "
                  f"{row['cpu_s_per_epoch']:7.3f} CPU s/epoch x{row['cpu_ratio']:.3f}{extra}")


if __name__ == "__main__":
    # Run as a script, benchmarks/ comes first on sys.path, where models.py would shadow
    # the project's package: the root goes first.
    sys.path.insert(0, str(ROOT))
    main()
