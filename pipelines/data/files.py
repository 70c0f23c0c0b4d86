"""File-based sources: MNIST-format idx folders, .npz arrays, CSV tables, image folders."""

from __future__ import annotations

import csv as csv_module
import gzip
from pathlib import Path

import numpy as np

from pipelines.data.source import SourceData, Split, register_source, resolve_path
from pipelines.errors import UserError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}


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
    data_dir: Path,
    skip_corrupt: bool = False,
) -> SourceData:
    """A CSV table: numeric feature columns plus one label column."""
    file = resolve_path(data_dir, path, what="csv file")
    with open(file, newline="") as f:
        rows = list(csv_module.DictReader(f))
    if not rows:
        raise UserError(f"{file} has no data rows")
    header = list(rows[0])
    if label_column not in header:
        raise UserError(f"{file}: no label column {label_column!r}; columns: {header}")
    features = feature_columns or [c for c in header if c != label_column]
    missing = [c for c in features if c not in header]
    if missing:
        raise UserError(f"{file}: feature columns {missing} not found; columns: {header}")
    x = np.zeros((len(rows), len(features)), np.float32)
    for i, row in enumerate(rows):
        for j, col in enumerate(features):
            try:
                x[i, j] = float(row[col])
            except (TypeError, ValueError):
                raise UserError(
                    f"{file}: row {i + 2}, column {col!r}: not a number: {row[col]!r}"
                ) from None
    y, names = _labels_to_ids(np.array([r[label_column] for r in rows]), str(file))
    return SourceData(
        splits={"train": Split(x, y)},
        class_names=names,
        input_range=(float(x.min()), float(x.max())),
        file_based=True,
        element_shape=None,
    )


@register_source("image_folder")
def image_folder(*, path: str, data_dir: Path, skip_corrupt: bool = False) -> SourceData:
    """One sub-folder per class of .jpg/.png images (optionally train/ and test/ inside)."""
    from PIL import Image, UnidentifiedImageError

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
    splits, skipped, sizes, modes = {}, [], set(), set()
    for split, folder in split_roots.items():
        paths, labels = [], []
        for label, name in enumerate(class_names):
            for file in sorted((folder / name).glob("*")):
                if file.suffix.lower() not in IMAGE_SUFFIXES:
                    continue
                try:  # header and checksum check now, so a bad file is named here
                    with Image.open(file) as im:
                        im.verify()
                    with Image.open(file) as im:
                        sizes.add(im.size)
                        modes.add("L" if im.mode in ("L", "1", "I;16") else "RGB")
                except (UnidentifiedImageError, OSError, SyntaxError) as err:
                    if not skip_corrupt:
                        raise UserError(
                            f"corrupt image {file}: {err} "
                            "(set data.skip_corrupt: true to skip such files)"
                        ) from None
                    skipped.append(str(file))
                    continue
                paths.append(str(file))
                labels.append(label)
        if not paths:
            raise UserError(f"no .jpg/.png images under {folder}")
        splits[split] = Split(np.array(paths), np.array(labels, np.int64))
    channels = 1 if modes == {"L"} else 3
    width, height = next(iter(sizes))
    return SourceData(
        splits=splits,
        class_names=class_names,
        input_range=(0.0, 255.0),
        decode=_image_decoder(channels),
        file_based=True,
        skipped=skipped,
        element_shape=None if len(sizes) > 1 else (height, width, channels),
    )


def _image_decoder(channels: int):
    import tensorflow as tf

    def decode(path):
        data = tf.io.read_file(path)
        image = tf.io.decode_image(data, channels=channels, expand_animations=False)
        return tf.cast(image, tf.uint8)

    return decode
