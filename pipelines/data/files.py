"""File-based sources: MNIST-format idx folders, .npz arrays, CSV tables, image folders."""

from __future__ import annotations

import csv as csv_module
import gzip
import os
from pathlib import Path

import numpy as np

from common.errors import UserError
from pipelines.data.nuisance import with_nuisance
from pipelines.data.source import SourceData, Split, register_source, resolve_path

IMAGE_SUFFIXES = {".bmp", ".gif", ".jpeg", ".jpg", ".png"}  # as Keras' image loader


def _read_idx(path: Path) -> np.ndarray:
    """Parse one idx file (optionally gzipped): magic, dims, then big-endian data."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
        if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
            raise ValueError("not an unsigned-byte idx file")
        ndim = raw[3]
        dims = np.frombuffer(raw, ">u4", count=ndim, offset=4).astype(int)
        data = np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim)
        return data.reshape(dims)
    except (OSError, ValueError, EOFError) as err:
        raise UserError(f"cannot read idx file {path}: {err}") from None


def _find_idx(folder: Path, prefix: str, kind: str) -> Path:
    found = sorted(folder.glob(f"{prefix}-{kind}-idx*-ubyte*"))
    if not found:
        raise UserError(
            f"idx folder {folder} has no '{prefix}-{kind}-idx*-ubyte[.gz]' file "
            "(expected the four MNIST-format files: train/t10k x images/labels)"
        )
    return found[0]


@register_source("idx")
def idx(
    *, path: str, class_names: list[str] | None = None, data_dir: Path, skip_corrupt: bool = False
) -> SourceData:
    """A folder with the four MNIST-format idx files (MNIST, Fashion-MNIST layout)."""
    folder = resolve_path(data_dir, path, what="idx folder")
    splits = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        x = _read_idx(_find_idx(folder, prefix, "images"))
        y = _read_idx(_find_idx(folder, prefix, "labels")).astype(np.int64)
        if len(x) != len(y):
            raise UserError(f"{folder}: {prefix} has {len(x)} images but {len(y)} labels")
        splits[split] = Split(x[..., None] if x.ndim == 3 else x, y)
    n_classes = int(max(s.y.max() for s in splits.values())) + 1
    names = class_names or [str(c) for c in range(n_classes)]
    if len(names) != n_classes:
        raise UserError(
            f"data.params.class_names has {len(names)} names; the labels have {n_classes} classes"
        )
    return SourceData(
        splits=splits, class_names=list(names), input_range=(0.0, 255.0), file_based=True
    )


def _labels_to_ids(labels: np.ndarray, where: str) -> tuple[np.ndarray, list[str]]:
    names = sorted({str(v) for v in labels}, key=lambda s: (len(s), s))
    if len(names) < 2:
        raise UserError(f"{where}: needs at least two label values, found {names}")
    index = {name: i for i, name in enumerate(names)}
    return np.array([index[str(v)] for v in labels], np.int64), names


@register_source("arrays")
def arrays(
    *,
    path: str,
    x_key: str = "x",
    y_key: str = "y",
    class_names: list[str] | None = None,
    data_dir: Path,
    skip_corrupt: bool = False,
) -> SourceData:
    """An .npz file with inputs and labels (`x`/`y`, plus optional `x_test`/`y_test`)."""
    file = resolve_path(data_dir, path, what="npz file")
    try:
        data = np.load(file, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise UserError(f"cannot read npz file {file}: {err}") from None
    for key in (x_key, y_key):
        if key not in data:
            raise UserError(f"{file} has no array {key!r}; it has {sorted(data.files)}")
    splits = {"train": Split(data[x_key], data[y_key])}
    if f"{x_key}_test" in data and f"{y_key}_test" in data:
        splits["test"] = Split(data[f"{x_key}_test"], data[f"{y_key}_test"])
    for name, split in splits.items():
        if len(split.x) != len(split.y):
            raise UserError(f"{file}: {name} has {len(split.x)} inputs, {len(split.y)} labels")
    all_y = np.concatenate([s.y for s in splits.values()])
    ids, names = _labels_to_ids(all_y, str(file))
    start = 0
    for split in splits.values():
        split.y, start = ids[start : start + len(split.y)], start + len(split.y)
    xs = np.concatenate([s.x.reshape(len(s.x), -1) for s in splits.values()])
    return SourceData(
        splits=splits,
        class_names=class_names or names,
        input_range=(float(xs.min()), float(xs.max())),
        file_based=True,
    )


@register_source("csv")
def csv(
    *,
    path: str,
    label_column: str = "label",
    feature_columns: list[str] | None = None,
    nuisance_column: str | None = None,
    data_dir: Path,
    skip_corrupt: bool = False,
) -> SourceData:
    """A CSV table: numeric feature columns plus one label column.

    `nuisance_column` names a numeric column z the model must become independent of
    (the `pivot` task): it is not a feature, and each target is [class id, z].
    """
    file = resolve_path(data_dir, path, what="csv file")
    with open(file, newline="") as f:
        rows = list(csv_module.DictReader(f))
    if not rows:
        raise UserError(f"{file} has no data rows")
    header = list(rows[0])
    if label_column not in header:
        raise UserError(f"{file}: no label column {label_column!r}; columns: {header}")
    if nuisance_column is not None and nuisance_column not in header:
        raise UserError(f"{file}: no nuisance column {nuisance_column!r}; columns: {header}")
    if nuisance_column is not None and nuisance_column in (feature_columns or []):
        raise UserError(f"{file}: the nuisance column {nuisance_column!r} cannot also be "
                        "one of data.params.feature_columns")
    features = feature_columns or [c for c in header if c not in (label_column,
                                                                   nuisance_column)]
    missing = [c for c in features if c not in header]
    if missing:
        raise UserError(f"{file}: feature columns {missing} not found; columns: {header}")
    x = _numbers(rows, features, file)
    y, names = _labels_to_ids(np.array([r[label_column] for r in rows]), str(file))
    if nuisance_column is not None:
        y = with_nuisance(y, _numbers(rows, [nuisance_column], file)[:, 0])
    return SourceData(
        splits={"train": Split(x, y)},
        class_names=names,
        input_range=(float(x.min()), float(x.max())),
        file_based=True,
        element_shape=None,
        task="classify" if nuisance_column is None else "pivot",
    )


def _numbers(rows: list[dict], columns: list[str], file: Path) -> np.ndarray:
    x = np.zeros((len(rows), len(columns)), np.float32)
    for i, row in enumerate(rows):
        for j, col in enumerate(columns):
            try:
                x[i, j] = float(row[col])
            except (TypeError, ValueError):
                raise UserError(
                    f"{file}: row {i + 2}, column {col!r}: not a number: {row[col]!r}"
                ) from None
    return x


@register_source("image_folder")
def image_folder(*, path: str, data_dir: Path, skip_corrupt: bool = False) -> SourceData:
    """One sub-folder per class of .jpg/.png/.bmp/.gif images (optionally train/ and
    test/ inside), as `keras.utils.image_dataset_from_directory` reads them."""
    root = resolve_path(data_dir, path, what="image folder")
    split_roots = {s: root / s for s in ("train", "val", "test") if (root / s).is_dir()}
    if "train" not in split_roots:
        split_roots = {"train": root}
    class_names = sorted(p.name for p in split_roots["train"].iterdir() if p.is_dir())
    if len(class_names) < 2:
        raise UserError(
            f"image folder {split_roots['train']} needs one sub-folder per "
            f"class (at least two); found {class_names}"
        )
    splits, skipped, shapes = {}, [], set()
    for split, folder in split_roots.items():
        paths, labels = _list_images(folder, class_names, split == "train")
        good, found_shapes, bad = check_images(paths)
        if bad and not skip_corrupt:
            raise UserError(
                f"corrupt image {bad[0][0]}: {bad[0][1]}"
                + (f" (and {len(bad) - 1} more)" if len(bad) > 1 else "")
                + " (set data.skip_corrupt: true to skip such files)"
            )
        skipped += [file for file, _ in bad]
        shapes |= found_shapes
        if not good.any():
            raise UserError(f"no readable images under {folder}")
        splits[split] = Split(paths[good], labels[good])
    channels = 1 if {c for _, _, c in shapes} <= {1, 2} else 3  # grey (+alpha) or colour
    sizes = {(h, w) for h, w, _ in shapes}
    height, width = next(iter(sizes))
    return SourceData(
        splits=splits,
        class_names=class_names,
        input_range=(0.0, 255.0),
        decode=_image_decoder(channels),
        file_based=True,
        skipped=skipped,
        element_shape=None if len(sizes) > 1 else (height, width, channels),
    )


def _list_images(
    folder: Path, class_names: list[str], training: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Paths and labels of the regular image files under `folder/<class>/`.

    Listed with `os.scandir` (no file is opened). Anything that is not a regular file
    (a FIFO or socket named `x.png` would block reading forever) is refused; a class
    folder of the training split with no image is an error, not a class of zero
    examples.
    """
    paths, labels = [], []
    for label, name in enumerate(class_names):
        class_dir = folder / name
        entries = sorted(os.scandir(class_dir), key=lambda e: e.name) if class_dir.is_dir() else []
        files = [e for e in entries if Path(e.name).suffix.lower() in IMAGE_SUFFIXES]
        odd = [e.path for e in files if not e.is_file()]
        if odd:
            raise UserError(f"{odd[0]} is not a regular file (a pipe, socket or device?)")
        if not files and training:
            raise UserError(
                f"class folder {class_dir} has no {'/'.join(sorted(IMAGE_SUFFIXES))} images; "
                "add images or remove the folder"
            )
        paths += [e.path for e in files]
        labels += [label] * len(files)
    return np.array(paths, dtype=str), np.array(labels, np.int64)


def check_images(paths: np.ndarray) -> tuple[np.ndarray, set, list[tuple[str, str]]]:
    """Decode every file once, fully, with TensorFlow's own decoders (in parallel).

    A header check is not enough: a JPEG cut short has a valid header and fails only
    when decoded. This is the same decoder training uses, so what passes here trains.

    Returns:
        A mask of the good files, the set of their (height, width, channels), and
        `(path, reason)` for each file that failed.
    """
    import tensorflow as tf  # heavy: listing sources (`dlzoo datasets`) needs no TF

    def shape_of(i, path):
        image = tf.io.decode_image(tf.io.read_file(path), expand_animations=False)
        return i, tf.shape(image)

    ds = tf.data.Dataset.from_tensor_slices((np.arange(len(paths)), paths))
    ds = ds.map(shape_of, num_parallel_calls=tf.data.AUTOTUNE, deterministic=False)
    ds = ds.ignore_errors().batch(1024)
    good = np.zeros(len(paths), bool)
    shapes: set = set()
    for index, shape in ds.as_numpy_iterator():
        good[index] = True
        shapes |= {tuple(int(v) for v in s) for s in shape}
    bad = [(str(p), _decode_error(p)) for p in paths[~good]]
    return good, shapes, bad


def _decode_error(path: str) -> str:
    """Why TensorFlow cannot decode `path` (only called for the few files that fail)."""
    import tensorflow as tf  # heavy: listing sources (`dlzoo datasets`) needs no TF

    try:
        tf.io.decode_image(tf.io.read_file(path), expand_animations=False)
    except (tf.errors.OpError, ValueError) as err:
        return getattr(err, "message", str(err)).strip().splitlines()[0]
    return "unreadable"


def _image_decoder(channels: int):
    import tensorflow as tf  # heavy: listing sources (`dlzoo datasets`) needs no TF

    def decode(path):
        data = tf.io.read_file(path)
        image = tf.io.decode_image(data, channels=channels, expand_animations=False)
        return tf.cast(image, tf.uint8)

    return decode
