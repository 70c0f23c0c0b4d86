"""The tf.data builder: splits, normalization from train only, augmentation on train
only, determinism, filters, and the errors for too little data."""

from __future__ import annotations

import numpy as np
import pytest

from common.errors import UserError
from pipelines.config.data import DataConfig
from pipelines.data.builder import build
from pipelines.data.source import Split
from pipelines.data.splits import carve
from pipelines.data.transforms import preprocess_layer


def arrays(ds):
    xs, ys = zip(*[(np.asarray(x), np.asarray(y)) for x, y in ds])
    return np.concatenate(xs), np.concatenate(ys)


def test_splits_are_stratified_seeded_and_disjoint():
    cfg = DataConfig(source="digits", val_fraction=0.1, test_fraction=0.2, batch_size=128)
    a, b = build(cfg, seed=3), build(cfg, seed=3)
    assert a.spec.sizes == {"train": 1294, "val": 144, "test": 359}
    for name in ("val", "test"):
        assert np.array_equal(arrays(a.split(name))[1], arrays(b.split(name))[1])
        counts = np.bincount(arrays(a.split(name))[1], minlength=10)
        assert counts.max() - counts.min() <= 2  # stratified
    xtr = {x.tobytes() for x in arrays(a.train)[0]}
    xte = {x.tobytes() for x in arrays(a.test)[0]}
    assert len(xtr & xte) <= 5  # digits has a few exact duplicate images, no more
    other = build(cfg, seed=4)
    assert not np.array_equal(arrays(a.test)[1], arrays(other.test)[1])


def test_cross_validation_folds_partition_train_and_val_and_keep_test():
    base = DataConfig(source="digits", batch_size=256)
    plain = build(base, seed=1)
    pool = np.concatenate([arrays(plain.train)[0], arrays(plain.val)[0]])
    share = np.bincount(np.concatenate([arrays(plain.train)[1], arrays(plain.val)[1]])) / 3
    held_out = []
    for index in range(3):
        fold = build(DataConfig(source="digits", batch_size=256, fold={"k": 3, "index": index}),
                     seed=1)
        x_train, x_val = arrays(fold.train)[0], arrays(fold.val)[0]
        assert len(x_train) + len(x_val) == len(pool) and abs(len(x_val) - len(pool) / 3) < 10
        assert np.array_equal(arrays(fold.test)[1], arrays(plain.test)[1])  # untouched
        held_out.append({x.tobytes() for x in x_val})
        counts = np.bincount(arrays(fold.val)[1], minlength=10)
        assert np.abs(counts - share).max() <= 1  # stratified: each class's share
    assert sum(len(h) for h in held_out) == len(set().union(*held_out))  # disjoint folds
    assert set().union(*held_out) == {x.tobytes() for x in pool}  # covering train+val
    with pytest.raises(ValueError, match="data.fold.index: 3 is not a fold of k=3"):
        DataConfig(source="digits", fold={"k": 3, "index": 3})


def test_too_few_samples_for_split():
    with pytest.raises(UserError, match="too few samples"):
        carve(Split(np.zeros((12, 2)), np.arange(12) % 6), 0.2, seed=0, stratify=True,
              what="data.val_fraction")


def test_elements_dtype_shape_and_raw_range():
    bundle = build(DataConfig(source="digits", image_size=(32, 32), batch_size=16))
    x, y = next(iter(bundle.train))
    assert x.dtype.name == "float32" and x.shape == (16, 32, 32, 1)
    assert y.dtype.name == "int64"
    assert 0 <= float(np.min(x)) and float(np.max(x)) <= 16.0
    assert bundle.spec.raw_dtype == "uint8" and bundle.spec.input_range == (0.0, 16.0)


def test_standardization_statistics_come_from_train_only():
    bundle = build(DataConfig(source="mnist1d", normalize="standardize", batch_size=500))
    xtr, _ = arrays(bundle.train)
    assert np.allclose(bundle.spec.norm_mean, xtr.mean(axis=0), atol=1e-4)
    xall = np.concatenate([xtr, arrays(bundle.val)[0], arrays(bundle.test)[0]])
    assert not np.allclose(bundle.spec.norm_mean, xall.mean(axis=0), atol=1e-4)
    z = np.asarray(preprocess_layer(bundle.spec)(xtr))
    assert np.allclose(z.mean(0), 0, atol=1e-3) and np.allclose(z.std(0), 1, atol=1e-2)


def test_rescale_maps_raw_range_to_unit_interval():
    bundle = build(DataConfig(source="digits", batch_size=2000))
    z = np.asarray(preprocess_layer(bundle.spec)(arrays(bundle.train)[0]))
    assert z.min() == 0.0 and z.max() == 1.0


def test_augmentation_applies_to_train_only():
    cfg = DataConfig(source="digits", image_size=(16, 16), batch_size=2000, shuffle_buffer=1,
                     augment={"rotation": {"factor": 0.2}, "zoom": {"factor": 0.2}})
    plain = build(cfg.model_copy(update={"augment": {}}), seed=0)
    aug = build(cfg, seed=0)
    for name in ("val", "test"):
        assert np.array_equal(arrays(plain.split(name))[0], arrays(aug.split(name))[0])
    x_plain, x_aug = arrays(plain.train)[0], arrays(aug.train)[0]
    assert x_plain.shape == x_aug.shape
    assert np.mean(np.abs(x_plain - x_aug)) > 0.1
    assert x_aug.min() >= 0 and x_aug.max() <= 16.0 + 1e-4  # still in the raw range


def test_same_seed_same_batches_including_augmentation():
    cfg = DataConfig(source="digits", batch_size=32, augment={"flip": {}, "rotation": {}})
    first = [next(iter(build(cfg, seed=7).train))[0].numpy() for _ in range(2)]
    assert np.array_equal(first[0], first[1])
    other = next(iter(build(cfg, seed=8).train))[0].numpy()
    assert not np.array_equal(first[0], other)


def test_mixup_gives_soft_one_hot_labels_everywhere():
    bundle = build(DataConfig(source="digits", batch_size=64, augment={"mixup": {"alpha": 0.4}}))
    _, y = next(iter(bundle.train))
    y = np.asarray(y)
    assert y.shape == (64, 10) and np.allclose(y.sum(-1), 1)
    assert ((y > 0.01) & (y < 0.99)).any()  # mixed
    _, y_test = next(iter(bundle.test))
    assert set(np.unique(y_test)) <= {0.0, 1.0}
    assert bundle.spec.label_mode == "onehot"


def test_class_filter_and_few_labels():
    cfg = DataConfig(source="digits", classes=[5, 6, 7, 8, 9], per_class=20, batch_size=512)
    bundle = build(cfg)
    assert bundle.spec.class_names == ("5", "6", "7", "8", "9")
    _, y = arrays(bundle.train)
    assert np.bincount(y).tolist() == [20] * 5
    assert set(arrays(bundle.test)[1]) == set(range(5))


def test_image_options_on_non_images_fail():
    with pytest.raises(UserError, match="apply to images"):
        build(DataConfig(source="xor", image_size=(4, 4)))


def test_cache_dir_gives_the_batches_of_no_cache_and_is_read_back(tmp_path):
    """data.cache_dir: the decoded examples saved once per split (tf.data save/load); the
    batches (shuffled train included) equal an uncached build's, on the first run and
    on the run that reads them back; another seed writes another folder."""
    def batches(bundle, split="train"):
        return [(np.asarray(x), np.asarray(y)) for x, y in bundle.split(split)]

    params = {"source": "shapes", "params": {"n": 240, "size": 16}, "batch_size": 32}
    cached = DataConfig(**params, cache_dir=str(tmp_path / "cache"))
    for _ in range(2):  # writes the snapshot, then reads it
        plain, bundle = build(DataConfig(**params), seed=2), build(cached, seed=2)  # epoch 1
        for split in ("train", "val", "test"):
            for (x, y), (cx, cy) in zip(batches(plain, split), batches(bundle, split), strict=True):
                assert np.array_equal(x, cx) and np.array_equal(y, cy)
    for split in ("train", "val", "test"):  # one complete folder per split, reused
        assert len(list((tmp_path / "cache" / split).glob("*/DONE"))) == 1
    build(DataConfig(**params, cache_dir=str(tmp_path / "cache")), seed=3)
    # another seed permutes train otherwise: its own folder; nothing half-written left
    assert len(list((tmp_path / "cache" / "train").glob("*/DONE"))) == 2
    assert not list((tmp_path / "cache").glob("*/.*tmp*"))


def test_translation_pairs_split_by_source_sentence():
    """A source sentence with several translations lies wholly in one split."""
    sources = np.array([f"s{i // 3}" for i in range(300)])  # three translations each
    pairs = Split(sources, np.array([f"t{i}" for i in range(300)]))
    train, test = carve(pairs, 0.2, seed=0, stratify=False, what="data.test_fraction",
                        by_input=True)
    assert not set(train.x) & set(test.x) and len(train) + len(test) == 300
    assert abs(len(test) - 60) <= 3 and len(test) % 3 == 0
