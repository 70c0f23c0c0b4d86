"""Build train/val/test `tf.data` pipelines from a `DataConfig`.

source -> split (seeded, stratified) -> filter classes -> decode -> resize -> cache
-> shuffle (train) -> batch -> augment (train only) -> prefetch(AUTOTUNE)
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from common.errors import UserError
from common.registry import validate_params
from pipelines.config.data import DataConfig
from pipelines.data.augment import AUGMENTATIONS, Augmentation, uses_soft_labels
from pipelines.data.augment import INJECTED as AUG_INJECTED
from pipelines.data.bundle import DataBundle
from pipelines.data.epochs import EpochOrder
from pipelines.data.source import INJECTED, SOURCES, SourceData, Split
from pipelines.data.spec import DataSpec
from pipelines.data.splits import in_memory_splits
from pipelines.data.text_bundle import build_text
from pipelines.data.transforms import fit_standardize
from pipelines.train.distribute.strategy import auto_shard_policy

AUTOTUNE = tf.data.AUTOTUNE
SPLITS = ("train", "val", "test")


def load_source(cfg: DataConfig) -> SourceData:
    entry = SOURCES.get(cfg.source)
    params = validate_params(entry.fn, cfg.params, where="data.params", skip=INJECTED)
    return entry.fn(data_dir=cfg.resolved_data_dir(), skip_corrupt=cfg.skip_corrupt, **params)


def build(cfg: DataConfig, *, seed: int = 0) -> DataBundle:
    """Read the source and return batched, prefetched pipelines and their spec.

    Raises:
        UserError: unknown source or options, missing files, too little data for
            the requested split, mixed image sizes without `data.image_size`.
    """
    source = load_source(cfg)
    if source.text:  # strings: vectorized by pipelines.data.text, fitted on train

        return build_text(source, cfg, seed=seed)
    raw = in_memory_splits(source, cfg, seed)
    class_names = source.class_names
    if cfg.classes is not None:
        class_names = [source.class_names[c] for c in cfg.classes]
    unbatched = {name: cached_on_disk(_examples(raw[name], source, cfg), cfg, name,
                                      raw[name], seed)
                 for name in SPLITS}
    x_spec, y_spec = unbatched["train"].element_spec
    input_shape = tuple(x_spec.shape)
    if None in input_shape:
        raise UserError(
            f"data: inputs have varying shapes {input_shape} (images of mixed sizes); "
            "set data.image_size: [height, width] to resize them"
        )
    soft = uses_soft_labels(cfg.augment)
    mean = variance = None
    if cfg.normalize == "standardize":
        mean, variance = fit_standardize(unbatched["train"].map(lambda x, y: x).batch(256))
    spec = DataSpec(
        task=source.task,
        input_shape=input_shape,
        raw_dtype=_raw_dtype(raw, source),
        input_range=source.input_range,
        class_names=tuple(class_names),
        normalize=cfg.normalize,
        norm_mean=mean,
        norm_variance=variance,
        label_mode="onehot" if soft else "sparse",
        target_shape=tuple(y_spec.shape),
        sizes={name: _size(raw[name]) for name in SPLITS},
        source=cfg.source,
        file_based=source.file_based,
        skipped=tuple(source.skipped),
    )
    order = EpochOrder(seed)
    datasets = {
        name: _batched(unbatched[name], name, spec, cfg, order, isinstance(raw[name], Split))
        for name in SPLITS
    }
    return DataBundle(
        spec=spec,
        raw={k: v for k, v in raw.items() if isinstance(v, Split)},
        order=order,
        **datasets,
    )


def _examples(split: Any, source: SourceData, cfg: DataConfig) -> tf.data.Dataset:
    """Unbatched (x, y) with x float32 in its raw range, decoded and resized."""
    if isinstance(split, Split):
        ds = tf.data.Dataset.from_tensor_slices((split.x, split.y))
    else:
        ds = split
    if source.decode is not None and source.element_shape:
        return _decoded_in_batches(ds, source, cfg)
    if source.decode is not None:  # files of mixed sizes: one at a time
        ds = ds.map(
            lambda path, label: (source.decode(path), label),
            num_parallel_calls=AUTOTUNE,
            deterministic=cfg.deterministic,
        )
    image_like = len(ds.element_spec[0].shape) == 3
    if (cfg.image_size or cfg.color_mode != "keep") and not image_like:
        raise UserError(
            f"data.image_size / data.color_mode apply to images; source "
            f"{cfg.source!r} gives inputs of shape {ds.element_spec[0].shape}"
        )
    if image_like:
        ds = ds.map(
            lambda x, y: (_to_image(x, cfg), y),
            num_parallel_calls=AUTOTUNE,
            deterministic=cfg.deterministic,
        )
    else:
        ds = ds.map(lambda x, y: (tf.cast(x, tf.float32), y))
    return ds


DECODE_BATCH = 256


def _decoded_in_batches(ds: tf.data.Dataset, source: SourceData,
                        cfg: DataConfig) -> tf.data.Dataset:
    """Files of one size, decoded DECODE_BATCH at a time, then unbatched.

    One tf.data map call per file costs more than decoding a small JPEG (a 28x28 file
    decodes in a few microseconds): Fashion-MNIST's 18,000 training JPEGs went through
    at 0.72x the rate of `keras.utils.image_dataset_from_directory`. A `tf.map_fn` over
    a batch of paths inside one map call, with the resize and cast done on the whole
    batch, pays that overhead once per batch (benchmarks/image_folder.py --part decode).
    The files and their order are the same, so the examples are too.
    """
    shape = source.element_shape

    def decode_batch(paths, labels):
        images = tf.map_fn(
            lambda path: tf.ensure_shape(source.decode(path), shape),
            paths,
            fn_output_signature=tf.TensorSpec(shape, tf.uint8),
            parallel_iterations=8,
        )
        return _to_image(images, cfg), labels

    ds = ds.batch(DECODE_BATCH).map(
        decode_batch, num_parallel_calls=AUTOTUNE, deterministic=cfg.deterministic
    )
    return ds.unbatch()


def cached_on_disk(ds: tf.data.Dataset, cfg: DataConfig, split: str, raw: Any,
                   seed: int) -> tf.data.Dataset:
    """`data.cache_dir`: the decoded, resized examples of a split written once with
    tf.data's `save` and read back with `load` by every later run whose data is the
    same, which then decodes nothing.

    The folder is named by a digest of what decides those examples: the data section
    (source, options, size, splits), the seed, the split, and the examples themselves
    (for file sources each file's name, size and modification time, so an image edited
    in place is decoded again; for arrays their bytes). tf.data's `snapshot` keys by a
    fingerprint of the pipeline instead, which changed between two identical builds of
    an image folder, so it never read back. A version is written to a temporary folder
    and renamed into place when complete: a killed run leaves no folder that a later one
    would trust, and of two concurrent writers the second's rename simply loses. One
    shard, read back in sequence, keeps the examples in their order, so the batches are
    the ones an uncached run makes.
    """
    if cfg.cache_dir is None:
        return ds
    folder = Path(cfg.cache_dir) / split / _examples_digest(cfg, split, raw, seed)
    numbered = ds.enumerate()
    if not (folder / "DONE").exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = folder.parent / f".{folder.name}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        numbered.save(str(tmp), shard_func=lambda i, _: i * 0)
        (tmp / "DONE").write_text("complete\n")
        try:
            tmp.rename(folder)
        except OSError:  # another run finished the same examples first: use its folder
            shutil.rmtree(tmp, ignore_errors=True)
    return (tf.data.Dataset.load(str(folder), element_spec=numbered.element_spec,
                                 reader_func=lambda shards: shards.flat_map(lambda s: s))
            .map(lambda _, example: example))


def _examples_digest(cfg: DataConfig, split: str, raw: Any, seed: int) -> str:
    digest = hashlib.sha1(json.dumps(
        [cfg.model_dump(mode="json", exclude={"cache_dir", "cache", "batch_size",
                                              "shuffle_buffer", "augment", "deterministic"}),
         split, seed], sort_keys=True).encode())
    if isinstance(raw, Split) and raw.x.dtype.kind in "US":  # file paths
        for path in raw.x:
            stat = os.stat(path)
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    elif isinstance(raw, Split):
        digest.update(np.ascontiguousarray(raw.x).tobytes())
        digest.update(np.ascontiguousarray(raw.y).tobytes())
    return digest.hexdigest()[:20]


def _to_image(x, cfg: DataConfig):
    x = tf.cast(x, tf.float32)
    if cfg.color_mode == "grayscale" and x.shape[-1] == 3:
        x = tf.image.rgb_to_grayscale(x)
    elif cfg.color_mode == "rgb" and x.shape[-1] == 1:
        x = tf.image.grayscale_to_rgb(x)
    if cfg.image_size:
        x = tf.image.resize(x, cfg.image_size)
    return x


def _batched(
    ds: tf.data.Dataset,
    name: str,
    spec: DataSpec,
    cfg: DataConfig,
    order: EpochOrder,
    in_memory: bool,
) -> tf.data.Dataset:
    if spec.label_mode == "onehot":
        depth = spec.num_classes
        ds = ds.map(lambda x, y: (x, tf.one_hot(y, depth)), num_parallel_calls=AUTOTUNE)
    if cfg.cache:
        ds = ds.cache()
    if name == "train":
        # In memory: shuffled in full every epoch, over the cache (the buffer holds
        # references to the cached tensors, no second copy). Streamed (tfds):
        # data.shuffle_buffer, on top of the shuffling the source does itself.
        buffer = spec.sizes["train"] if in_memory else cfg.shuffle_buffer
        ds = order.shuffled(ds, max(buffer, 1))
    ds = ds.batch(cfg.batch_size)
    if name == "train":
        for fn in augmentations(cfg, spec, order.seed, order):
            # Keras' random layers draw from a stateful SeedGenerator: parallel calls
            # would interleave its state updates in any order, so a deterministic
            # pipeline maps them one batch at a time (still overlapped with training
            # by prefetch; each call is a whole batch, vectorised).
            if cfg.deterministic:
                ds = ds.map(fn)
            else:
                ds = ds.map(fn, num_parallel_calls=AUTOTUNE, deterministic=False)
    options = tf.data.Options()
    options.deterministic = cfg.deterministic
    options.experimental_distribute.auto_shard_policy = auto_shard_policy(ds)  # FILE or DATA
    return ds.with_options(options).prefetch(AUTOTUNE)


def augmentations(
    cfg: DataConfig, spec: DataSpec, seed: int, order: EpochOrder | None = None
) -> list[Augmentation]:
    """The `(x, y) -> (x, y)` batch functions of `cfg.augment`, in the recipe's order;
    `order` follows their random layers (set per epoch from the seed)."""
    out = []
    for i, (aug_name, params) in enumerate(cfg.augment.items()):
        factory = AUGMENTATIONS.get(aug_name)
        kwargs = validate_params(
            factory, params, where=f"data.augment.{aug_name}", skip=AUG_INJECTED
        )
        aug = factory(
            input_range=spec.input_range,
            seed=seed + i,
            num_classes=spec.num_classes,
            input_shape=spec.input_shape,
            **kwargs,
        )
        for layer in aug.layers if order is not None else ():
            order.track(seed + i, layer)
        out.append(aug)
    return out


def _size(split: Any) -> int:
    if isinstance(split, Split):
        return len(split)
    n = int(split.cardinality())
    return n if n >= 0 else -1


def _raw_dtype(raw: dict[str, Any], source: SourceData) -> str:
    train = raw["train"]
    if source.decode is not None or not isinstance(train, Split):
        return "uint8"
    return str(train.x.dtype) if train.x.dtype == np.uint8 else "float32"
