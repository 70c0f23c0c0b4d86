"""Each data source: shapes, dtypes, value ranges, labels, and its bad-input errors."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from common.errors import UserError
from pipelines.config.data import DataConfig
from pipelines.data.builder import build, load_source


def source(source_name, /, **params):
    return load_source(DataConfig(source=source_name, params=params))


def test_digits():
    data = source("digits")
    x, y = data.splits["train"].x, data.splits["train"].y
    assert x.shape == (1797, 8, 8, 1) and x.dtype == np.uint8
    assert x.max() == 16 and data.input_range == (0.0, 16.0)
    assert set(np.unique(y)) == set(range(10))


def test_xor_labels_are_exclusive_or():
    data = source("xor", n_per_corner=5, noise=0.0)
    x, y = data.splits["train"].x, data.splits["train"].y
    assert np.array_equal(y, (x[:, 0].round() != x[:, 1].round()).astype(int))


def test_mnist1d_generated_offline():
    data = source("mnist1d", as_sequence=True)
    assert data.splits["train"].x.shape == (4000, 40, 1)
    assert data.splits["test"].x.shape == (1000, 40, 1)


def test_shapes_masks_match_labels():
    data = source("shapes", n=60, size=24, task="segment")
    split = data.splits["train"]
    masks, y = split.extras["mask"], split.y
    assert split.x.shape == (60, 24, 24, 1) and split.x.dtype == np.uint8
    assert np.array_equal(y > 0, masks == 1)  # labelled pixels are exactly the object
    assert all(masks[i].sum() > 10 for i in range(60))
    # the object is brighter than the background on average
    inside = [split.x[i][masks[i] == 1].mean() for i in range(60)]
    outside = [split.x[i][masks[i] == 0].mean() for i in range(60)]
    assert np.mean(inside) > np.mean(outside) + 50


def _write_idx(path, array):
    dims = array.shape
    header = struct.pack(">BBBB", 0, 0, 0x08, len(dims)) + struct.pack(f">{len(dims)}I", *dims)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def idx_folder(tmp_path):
    folder = tmp_path / "data" / "tiny_mnist"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 60), ("t10k", 20)):
        _write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 6, 6)))
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", np.arange(n) % 3)
    return folder


def test_idx_folder_from_data_dir_env(idx_folder, monkeypatch):
    monkeypatch.setenv("DLZOO_DATA_DIR", str(idx_folder.parent))
    data = source("idx", path="tiny_mnist")
    assert data.splits["train"].x.shape == (60, 6, 6, 1)
    assert data.splits["test"].y.tolist()[:4] == [0, 1, 2, 0]
    assert data.class_names == ["0", "1", "2"]


def test_idx_missing_folder_and_files_are_named(tmp_path):
    with pytest.raises(UserError, match="idx folder not found: nowhere"):
        load_source(DataConfig(source="idx", params={"path": "nowhere"}, data_dir=str(tmp_path)))
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="train-images"):
        source("idx", path=str(tmp_path / "empty"))


def test_arrays_npz(tmp_path):
    x = np.random.default_rng(0).normal(size=(50, 3)).astype(np.float32)
    np.savez(tmp_path / "d.npz", x=x, y=np.array(["a", "b"] * 25))
    data = source("arrays", path=str(tmp_path / "d.npz"))
    assert data.class_names == ["a", "b"] and data.splits["train"].y[:2].tolist() == [0, 1]
    with pytest.raises(UserError, match="no array 'features'"):
        source("arrays", path=str(tmp_path / "d.npz"), x_key="features")


def test_csv_features_and_label(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,label\n1,2,yes\n3,4,no\n5,6,yes\n")
    data = source("csv", path=str(path))
    assert data.splits["train"].x.tolist() == [[1, 2], [3, 4], [5, 6]]
    assert data.class_names == ["no", "yes"]
    path.write_text("a,b,label\n1,oops,yes\n3,4,no\n")
    with pytest.raises(UserError, match="row 2, column 'b'"):
        source("csv", path=str(path))
    with pytest.raises(UserError, match="no label column 'kind'"):
        source("csv", path=str(path), label_column="kind")


def _image_folder(root, sizes=((10, 10),), mode="L", per_class=4):
    for c, name in enumerate(["cat", "dog"]):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            size = sizes[i % len(sizes)]
            value = 40 + 150 * c
            Image.new(mode, size, color=value if mode == "L" else (value, 0, 0)).save(
                root / name / f"{i}.png")
    return root


def test_image_folder_grey_and_colour(tmp_path):
    cfg = DataConfig(source="image_folder", params={"path": str(_image_folder(tmp_path / "g"))},
                     val_fraction=0.25, test_fraction=0.25, batch_size=4)
    bundle = build(cfg)
    assert bundle.spec.input_shape == (10, 10, 1) and bundle.spec.class_names == ("cat", "dog")
    x, y = next(iter(bundle.test))
    assert float(np.max(x)) <= 255 and x.shape[1:] == (10, 10, 1)
    colour = str(_image_folder(tmp_path / "c", mode="RGB"))
    cfg = cfg.model_copy(update={"params": {"path": colour}})
    assert build(cfg).spec.input_shape == (10, 10, 3)


def test_image_folder_decoded_in_batches_equals_one_file_at_a_time(tmp_path):
    """More files than one decode batch, resized and turned grey on the way: each
    example is its own file, decoded alone with TensorFlow and resized alone."""
    rng = np.random.default_rng(0)
    for c in ("a", "b"):
        (tmp_path / c).mkdir()
        for i in range(300):
            pixels = rng.integers(0, 256, (9, 7, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / c / f"{i}.jpg")
    cfg = DataConfig(source="image_folder", params={"path": str(tmp_path)}, val_fraction=0.1,
                     test_fraction=0.5, batch_size=64, image_size=[5, 4],
                     color_mode="grayscale")
    bundle = build(cfg)
    got = np.concatenate([x for x, _ in bundle.test.as_numpy_iterator()])
    paths = bundle.raw["test"].x
    assert len(got) == len(paths) > 256
    for i in (0, 1, 255, 256, len(paths) - 1):
        one = tf.io.decode_image(tf.io.read_file(paths[i]), channels=3, expand_animations=False)
        one = tf.image.resize(tf.image.rgb_to_grayscale(tf.cast(one, tf.float32)), [5, 4])
        np.testing.assert_allclose(got[i], one.numpy(), atol=1e-4)


def test_image_folder_mixed_sizes_need_image_size(tmp_path):
    root = _image_folder(tmp_path / "m", sizes=((10, 10), (12, 8)))
    cfg = DataConfig(source="image_folder", params={"path": str(root)}, val_fraction=0.25,
                     test_fraction=0.25)
    with pytest.raises(UserError, match="data.image_size"):
        build(cfg)
    resized = build(cfg.model_copy(update={"image_size": (16, 16)}))
    assert resized.spec.input_shape == (16, 16, 1)


def test_corrupt_image_is_named_or_skipped(tmp_path):
    root = _image_folder(tmp_path / "x", per_class=6)
    (root / "dog" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(UserError, match=r"corrupt image .*broken\.png"):
        source("image_folder", path=str(root))
    cfg = DataConfig(source="image_folder", params={"path": str(root)}, skip_corrupt=True,
                     val_fraction=0.25, test_fraction=0.25)
    bundle = build(cfg)
    assert len(bundle.spec.skipped) == 1 and bundle.spec.skipped[0].endswith("broken.png")
    assert sum(bundle.spec.sizes.values()) == 12


def test_tfds_source_through_the_builder():
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=40):  # tfds' offline fake data, real code path
        bundle = build(DataConfig(source="tfds", params={"name": "mnist"}, batch_size=8))
    assert bundle.spec.input_shape == (28, 28, 1) and bundle.spec.num_classes == 10
    x, y = next(iter(bundle.train))
    assert x.shape == (8, 28, 28, 1) and y.shape == (8,)


def test_tfds_needs_all_three_splits():
    with pytest.raises(UserError, match="missing"):
        source("tfds", name="mnist", splits={"train": "train"})


def _jpeg_folder(root, per_class=10):
    rng = np.random.default_rng(0)
    for name in ("cat", "dog"):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            pixels = rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.jpg", quality=90)
    return root


def test_truncated_jpeg_is_named_or_skipped(tmp_path):
    """A JPEG cut to 90% of its bytes has a valid header: only decoding finds it."""
    root = _jpeg_folder(tmp_path / "j")
    whole = (root / "dog" / "3.jpg").read_bytes()
    (root / "dog" / "3.jpg").write_bytes(whole[: int(len(whole) * 0.9)])
    with pytest.raises(UserError, match=r"corrupt image .*dog/3\.jpg"):
        source("image_folder", path=str(root))
    cfg = DataConfig(source="image_folder", params={"path": str(root)}, skip_corrupt=True,
                     val_fraction=0.2, test_fraction=0.2, batch_size=4)
    bundle = build(cfg)
    assert [Path(p).name for p in bundle.spec.skipped] == ["3.jpg"]
    assert sum(bundle.spec.sizes.values()) == 19


def test_fifo_named_like_an_image_is_refused_not_read(tmp_path):
    import os

    root = _image_folder(tmp_path / "f")
    os.mkfifo(root / "cat" / "pipe.png")
    with pytest.raises(UserError, match=r"pipe\.png is not a regular file"):
        load_source(DataConfig(source="image_folder", params={"path": str(root)},
                               skip_corrupt=True))


def test_empty_class_folder_is_an_error_not_a_class(tmp_path):
    root = _image_folder(tmp_path / "e")
    (root / "empty").mkdir()
    with pytest.raises(UserError, match=r"class folder .*empty has no .* images"):
        source("image_folder", path=str(root))


def test_cache_dir_of_an_image_folder_is_read_back_until_a_file_changes(tmp_path):
    """data.cache_dir on files: the second run reads the saved examples (no new folder),
    an image rewritten in place is decoded again (a new folder), and the batches follow."""
    import os

    root = _image_folder(tmp_path / "f", per_class=6)
    cfg = DataConfig(source="image_folder", params={"path": str(root)}, val_fraction=0.25,
                     test_fraction=0.25, cache_dir=str(tmp_path / "cache"))

    def test_images():
        return np.concatenate([np.asarray(x) for x, _ in build(cfg, seed=0).test])

    first = test_images()
    assert test_images().tobytes() == first.tobytes()
    assert len(list((tmp_path / "cache" / "test").glob("*/DONE"))) == 1
    changed = sorted(root.rglob("*.png"))
    for path in changed:  # every image brighter, same names
        Image.fromarray(np.full((10, 10), 200, np.uint8)).save(path)
        os.utime(path, ns=(os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns + 10**9))
    assert test_images().max() == 200 != first.max()  # decoded again, not the stale copy
    assert len(list((tmp_path / "cache" / "test").glob("*/DONE"))) == 2
