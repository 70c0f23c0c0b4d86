"""The in-memory splits of a source: carve val/test off train, filter classes, and put
the training split in a seeded random order.

Sources list their examples in whatever order they are stored (image folders class by
class, CSV files sorted by label, sentence pairs shortest first). That order must never
reach training: `permute_train` shuffles the whole training split once with the run's
seed before it becomes a `tf.data.Dataset`, and the builders then reshuffle it fully
every epoch. Validation and test splits keep their stable order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.model_selection import GroupShuffleSplit, KFold, StratifiedKFold, train_test_split

from common.errors import UserError
from pipelines.data.source import SourceData, Split


def complete_splits(source: SourceData, cfg, seed: int) -> dict[str, Any]:
    """The source's splits, with val/test carved from train where it has none."""
    splits = dict(source.splits)
    if "train" not in splits:
        raise UserError(f"data source {cfg.source!r} gave no training split")
    for name, fraction in (("test", cfg.test_fraction), ("val", cfg.val_fraction)):
        if name in splits:
            continue
        if not isinstance(splits["train"], Split):
            raise UserError(f"data source {cfg.source!r} must provide a {name!r} split")
        splits["train"], splits[name] = carve(
            splits["train"],
            fraction,
            seed=seed,
            stratify=source.task == "classify",
            what=f"data.{name}_fraction",
            by_input=source.task == "seq2seq",
        )
    return splits


def carve(
    split: Split, fraction: float, *, seed: int, stratify: bool, what: str,
    by_input: bool = False,
) -> tuple[Split, Split]:
    """Split off `fraction` of the examples, seeded, keeping class balance.

    Both parts keep the source's order (the training part is permuted later, once).
    With `by_input` (translation pairs) and inputs that repeat, every example of one
    input lands on the same side, so no source sentence is both trained on and scored
    (Tatoeba translates many English sentences several times).

    Raises:
        UserError: when a part would be empty or miss a class.
    """
    if by_input and len(np.unique(split.x)) < len(split):
        groups = np.unique(split.x, return_inverse=True)[1]
        keep, out = next(GroupShuffleSplit(n_splits=1, test_size=fraction, random_state=seed)
                         .split(split.x, groups=groups))
        return split.take(np.sort(keep)), split.take(np.sort(out))

    n = len(split)
    n_classes = len(np.unique(split.y)) if stratify else 1
    n_out = int(round(n * fraction))
    if n_out < n_classes or n - n_out < n_classes:
        raise UserError(
            f"{what}={fraction}: too few samples ({n}) to split off {n_out} "
            f"while keeping all {n_classes} classes on both sides; need at least "
            f"{int(np.ceil(n_classes / min(fraction, 1 - fraction)))} samples"
        )
    keep, out = train_test_split(
        np.arange(n), test_size=n_out, random_state=seed, stratify=split.y if stratify else None
    )
    return split.take(np.sort(keep)), split.take(np.sort(out))


def concat(a: Any, b: Any) -> Any:
    """Two splits as one (in-memory splits, or ready datasets such as tfds')."""
    if isinstance(a, Split) and isinstance(b, Split):
        extras = {k: np.concatenate([a.extras[k], b.extras[k]]) for k in a.extras}
        return Split(np.concatenate([a.x, b.x]), np.concatenate([a.y, b.y]), extras)
    if isinstance(a, Split) or isinstance(b, Split):
        raise UserError("data.train_on_val: train and val must both be in memory or both tfds")
    return a.concatenate(b)


def filter_classes(raw: dict[str, Any], cfg, seed: int) -> dict[str, Any]:
    """`data.classes` (keep and renumber some classes) and `data.per_class` (few labels)."""
    if cfg.classes is None and cfg.per_class is None:
        return raw
    if not all(isinstance(s, Split) for s in raw.values()):
        raise UserError("data.classes / data.per_class need an in-memory source (not tfds)")
    out = {}
    for name, split in raw.items():
        if cfg.classes is not None:
            keep = np.flatnonzero(np.isin(split.y, cfg.classes))
            split = split.take(keep)
            remap = {c: i for i, c in enumerate(cfg.classes)}
            split.y = np.array([remap[int(c)] for c in split.y], np.int64)
        if cfg.per_class is not None and name == "train":
            rng = np.random.default_rng(seed)
            keep = np.concatenate(
                [
                    rng.permutation(np.flatnonzero(split.y == c))[: cfg.per_class]
                    for c in np.unique(split.y)
                ]
            )
            split = split.take(np.sort(keep))
        if len(split) == 0:
            raise UserError(f"data.classes={cfg.classes}: no {name} examples left")
        out[name] = split
    return out


def in_memory_splits(source: SourceData, cfg, seed: int) -> dict[str, Any]:
    """Every step above in order, ending with the training split permuted by `seed`."""
    raw = filter_classes(complete_splits(source, cfg, seed), cfg, seed)
    if cfg.train_on_val:
        raw["train"] = concat(raw["train"], raw["val"])
    if cfg.fold is not None:
        raw["train"], raw["val"] = fold(concat(raw["train"], raw["val"]), cfg.fold, seed=seed,
                                        stratify=source.task == "classify")
    return permute_train(raw, seed)


def fold(pool: Split, cfg, *, seed: int, stratify: bool) -> tuple[Split, Split]:
    """(the other k - 1 folds, fold `cfg.index`) of `pool`: scikit-learn's (stratified)
    k-fold with the run's seed, so every fold of one search holds the same examples."""
    if not isinstance(pool, Split):
        raise UserError("data.fold: cross-validation needs in-memory splits (not tfds)")
    smallest = int(np.bincount(pool.y.astype(int)).min()) if stratify else len(pool)
    if smallest < cfg.k:
        raise UserError(f"data.fold.k={cfg.k}: the smallest class has {smallest} examples in "
                        f"train+val; give k <= {smallest}")
    splitter = (StratifiedKFold if stratify else KFold)(cfg.k, shuffle=True, random_state=seed)
    train, held_out = list(splitter.split(np.zeros(len(pool)), pool.y))[cfg.index]
    return pool.take(np.sort(train)), pool.take(np.sort(held_out))


def permute_train(raw: dict[str, Any], seed: int) -> dict[str, Any]:
    """The training split in a random order drawn from `seed` (streamed splits as they are).

    File paths and arrays are cheap to reorder, so this costs nothing even for large
    folders, and it removes any grouping the source's order has.
    """
    train = raw["train"]
    if not isinstance(train, Split):
        return raw
    order = np.random.default_rng([seed, 0x5EED]).permutation(len(train))
    return {**raw, "train": train.take(order)}
