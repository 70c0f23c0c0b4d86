"""dlzoo's `image_folder` source against `keras.utils.image_dataset_from_directory`.

A folder of JPEG files with one sub-folder per class (written once under --work;
Fashion-MNIST from <data-dir>/fashion_mnist, else the built-in `shapes`), split into
train/ and val/. Measured, side by side in one process:

  listing   the time each loader takes before the first batch can be made (dlzoo
            lists and decode-checks every file; Keras lists them);
  accuracy  the same small CNN, optimizer and epochs trained from each loader, over
            several seeds: validation accuracy, whose means must agree within 1 point
            (dlzoo lists files class by class, so this checks that the order on disk
            does not reach training);
  decode    one pass over the training split (decode, resize, batch; no model), per
            loader, interleaved over --rounds: images/s of the pass, and the time from
            building the loader to the pass's end (listing included): Keras; dlzoo;
            dlzoo with `data.cache_dir` on its first run (decoding and saving the
            examples while it builds, then reading them) and on the next run (reading
            them: no decode). Target: dlzoo's images/s >= Keras' (ratio >= 1.0).

Usage:
  python benchmarks/image_folder.py [--data-dir ../shared/datasets] [--images 20000]
      [--epochs 3] [--seeds 3] [--rounds 3] [--part accuracy|decode|both]

Writes benchmarks/results/image_folder.json (accuracy, listing) and
image_folder_decode.json (decode passes).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Run as a script, benchmarks/ comes first on sys.path, and benchmarks/explain.py,
# tuning.py and models.py would shadow the project's packages: the root goes first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

from common.machine import numerics  # noqa: E402
from pipelines.config.data import DataConfig  # noqa: E402
from pipelines.data.builder import build, load_source  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "image_folder.json"
DECODE_RESULTS = Path(__file__).parent / "results" / "image_folder_decode.json"
VAL_SHARE = TEST_SHARE = 0.1


def source_images(data_dir: str | None, n: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """`n` images with labels: Fashion-MNIST's training images, or generated shapes."""
    if data_dir:
        cfg = DataConfig(source="idx", params={"path": "fashion_mnist"}, data_dir=data_dir)
        split = load_source(cfg).splits["train"]
        names = [str(c) for c in range(10)]
    else:
        from pipelines.data.builtin import SHAPE_NAMES, shapes

        split = shapes(n=n, size=32, channels=3, seed=0).splits["train"]
        names = list(SHAPE_NAMES)
    rng = np.random.default_rng(0)
    keep = rng.permutation(len(split))[:n]
    return split.x[keep], split.y[keep], names


def write_folder(root: Path, x: np.ndarray, y: np.ndarray, names: list[str]) -> Path:
    """train/, val/ and test/, each with <class>/*.jpg (skipped when already written).

    dlzoo then uses the three splits as they are; Keras reads train/ and val/."""
    from PIL import Image

    if (root / "DONE").exists():
        return root
    n_val, n_test = int(len(x) * VAL_SHARE), int(len(x) * TEST_SHARE)
    for i, (image, label) in enumerate(zip(x, y)):
        split = "val" if i < n_val else "test" if i < n_val + n_test else "train"
        folder = root / split / names[label]
        folder.mkdir(parents=True, exist_ok=True)
        pixels = image[..., 0] if image.shape[-1] == 1 else image
        Image.fromarray(pixels).save(folder / f"{i:06d}.jpg", quality=95)
    (root / "DONE").write_text("ok\n")
    return root


def keras_loaders(root: Path, size: tuple[int, int], channels: int, batch: int, seed: int):
    mode = "grayscale" if channels == 1 else "rgb"
    common = dict(image_size=size, color_mode=mode, batch_size=batch, label_mode="int")
    train = keras.utils.image_dataset_from_directory(root / "train", shuffle=True, seed=seed,
                                                     verbose=False, **common)
    val = keras.utils.image_dataset_from_directory(root / "val", shuffle=False, verbose=False,
                                                   **common)
    return train.prefetch(-1), val.prefetch(-1)


def dlzoo_loaders(root: Path, batch: int, seed: int):
    bundle = build(DataConfig(source="image_folder", params={"path": str(root)},
                              batch_size=batch), seed=seed)
    return bundle.train, bundle.val, bundle.spec


def small_cnn(shape: tuple[int, ...], classes: int) -> keras.Model:
    inputs = keras.Input(shape)
    x = layers.Rescaling(1 / 255)(inputs)
    for width in (32, 64):
        x = layers.Conv2D(width, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D()(x)
    x = layers.GlobalAveragePooling2D()(layers.Conv2D(128, 3, activation="relu")(x))
    return keras.Model(inputs, layers.Dense(classes)(x))


def train_once(train, val, shape, classes, epochs: int, seed: int) -> dict:
    keras.utils.set_random_seed(seed)
    model = small_cnn(shape, classes)
    model.compile(keras.optimizers.Adam(1e-3),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(train, validation_data=val, epochs=epochs, verbose=0).history
    return {"val_accuracy": round(history["val_accuracy"][-1], 4),
            "train_accuracy": round(history["accuracy"][-1], 4),
            "seconds": round(time.perf_counter() - start, 1)}


def one_pass(make) -> dict:
    """Build a loader with `make()`, then read its training split once: images/s of
    the pass, and the seconds from the build's start to the pass's end."""
    start = time.perf_counter()
    train = make()
    begin, images = time.perf_counter(), 0
    for x, _ in train:
        images += int(x.shape[0])
    end = time.perf_counter()
    return {"images_per_s": round(images / (end - begin), 1),
            "build_and_pass_s": round(end - start, 2)}


def decode_passes(root: Path, size, channels: int, batch: int, rounds: int, work: Path) -> dict:
    """One pass per loader and round, interleaved (see the module docstring)."""
    def dlzoo(cache_dir=None):
        cfg = DataConfig(source="image_folder", params={"path": str(root)}, batch_size=batch,
                         cache_dir=None if cache_dir is None else str(cache_dir))
        return build(cfg, seed=0).train

    runs: dict[str, list] = {"keras": [], "dlzoo": [], "dlzoo cache_dir, first run (writes)": [],
                             "dlzoo cache_dir, next run (reads)": []}
    cache = work / "snapshot"
    for _ in range(rounds):
        shutil.rmtree(cache, ignore_errors=True)  # each round's first run writes it anew
        runs["keras"].append(one_pass(lambda: keras_loaders(root, size, channels, batch, 0)[0]))
        runs["dlzoo"].append(one_pass(dlzoo))
        runs["dlzoo cache_dir, first run (writes)"].append(one_pass(lambda: dlzoo(cache)))
        runs["dlzoo cache_dir, next run (reads)"].append(one_pass(lambda: dlzoo(cache)))
        print("decode pass:", {k: v[-1] for k, v in runs.items()}, flush=True)
    median = {k: {m: statistics.median(r[m] for r in v) for m in v[0]} for k, v in runs.items()}
    keras_rate = median["keras"]["images_per_s"]
    return {"runs": runs, "median": median,
            "ratio_images_per_s_vs_keras": {k: round(v["images_per_s"] / keras_rate, 2)
                                            for k, v in median.items()},
            "target": "dlzoo images/s >= keras (ratio >= 1.0)"}


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, round(time.perf_counter() - start, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("DLZOO_DATA_DIR"))
    parser.add_argument("--work", default="/tmp/dlzoo-bench-image-folder")
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3, help="decode passes per loader")
    parser.add_argument("--part", choices=["accuracy", "decode", "both"], default="both")
    args = parser.parse_args()
    if args.data_dir and not (Path(args.data_dir) / "fashion_mnist").is_dir():
        parser.error(f"--data-dir {args.data_dir} has no fashion_mnist/ folder")
    kind = "fashion_mnist" if args.data_dir else "shapes"
    x, y, names = source_images(args.data_dir, args.images)
    root, wrote = timed(lambda: write_folder(Path(args.work) / f"{kind}-{args.images}", x, y,
                                            names))
    size, channels = x.shape[1:3], x.shape[3]
    _, dlzoo_listing = timed(lambda: load_source(
        DataConfig(source="image_folder", params={"path": str(root)})))
    _, keras_listing = timed(lambda: keras_loaders(root, size, channels, args.batch_size, 0))
    folder = {"images": len(x), "kind": kind, "classes": len(names),
              "image_shape": list(x.shape[1:]), "format": "jpeg", "written_s": wrote}
    if args.part in ("decode", "both"):
        decode = decode_passes(root, size, channels, args.batch_size, args.rounds,
                               Path(args.work))
        DECODE_RESULTS.parent.mkdir(parents=True, exist_ok=True)
        DECODE_RESULTS.write_text(json.dumps(
            {"benchmark": "image_folder decode", "machine": numerics(), "folder": folder,
             "batch_size": args.batch_size, "rounds": args.rounds, **decode}, indent=2) + "\n")
        print(f"decode pass, images/s vs keras: {decode['ratio_images_per_s_vs_keras']}")
        print(f"wrote {DECODE_RESULTS}")
    if args.part == "decode":
        return
    runs: dict[str, list] = {"keras": [], "dlzoo": []}
    for seed in range(args.seeds):  # interleaved, so drift hits both loaders alike
        k_train, k_val = keras_loaders(root, size, channels, args.batch_size, seed)
        d_train, d_val, spec = dlzoo_loaders(root, args.batch_size, seed)
        runs["keras"].append(train_once(k_train, k_val, spec.input_shape, len(names),
                                        args.epochs, seed))
        runs["dlzoo"].append(train_once(d_train, d_val, spec.input_shape, len(names),
                                        args.epochs, seed))
        print(f"seed {seed}: keras {runs['keras'][-1]}  dlzoo {runs['dlzoo'][-1]}", flush=True)
    mean = {k: statistics.mean(r["val_accuracy"] for r in v) for k, v in runs.items()}
    result = {
        "benchmark": "image_folder",
        "machine": numerics(),
        "folder": folder,
        "listing_s": {"dlzoo (list + decode check)": dlzoo_listing, "keras": keras_listing},
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "runs": runs,
        "val_accuracy_mean": {k: round(v, 4) for k, v in mean.items()},
        "difference_points": round(100 * (mean["dlzoo"] - mean["keras"]), 2),
        "target": "|difference| <= 1 point",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"listing: {result['listing_s']}  val accuracy: {result['val_accuracy_mean']}  "
          f"difference {result['difference_points']} points")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
