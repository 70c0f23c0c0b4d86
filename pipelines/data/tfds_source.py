"""Any TensorFlow Datasets dataset by name (needs internet, or a prepared data_dir)."""

from __future__ import annotations

from pathlib import Path

from common.errors import UserError
from pipelines.data.source import SourceData, register_source


@register_source("tfds", offline=False)
def tfds(
    *,
    name: str,
    splits: dict[str, str] | None = None,
    download: bool = True,
    data_dir: Path,
    skip_corrupt: bool = False,
) -> SourceData:
    """A TensorFlow Datasets builder by name; `splits` maps train/val/test to split specs.

    Example: `splits: {train: "train[:90%]", val: "train[90%:]", test: test}`.
    """
    import tensorflow_datasets as tfds_lib  # heavy (seconds): only when tfds is read

    splits = splits or {"train": "train[:90%]", "val": "train[90%:]", "test": "test"}
    missing = {"train", "val", "test"} - set(splits)
    if missing:
        raise UserError(
            f"data.params.splits must name train, val and test; missing {sorted(missing)}"
        )
    try:
        datasets, info = tfds_lib.load(
            name,
            split=[splits[s] for s in ("train", "val", "test")],
            as_supervised=True,
            with_info=True,
            data_dir=str(data_dir) if data_dir else None,
            download=download,
        )
    except Exception as err:  # tfds raises many types: name them in one message
        raise UserError(
            f"cannot load tfds dataset {name!r} with splits {splits}: {type(err).__name__}: "
            f"{err}. tfds downloads need internet; offline, point data.data_dir at a "
            "prepared tfds folder or use another source (dlzoo datasets lists them)"
        ) from None
    label = info.supervised_keys[1] if info.supervised_keys else "label"
    feature = info.features[label]
    names = list(getattr(feature, "names", None) or range(feature.num_classes))
    return SourceData(
        splits=dict(zip(("train", "val", "test"), datasets)),
        class_names=[str(n) for n in names],
        input_range=(0.0, 255.0),
        element_shape=tuple(info.features[info.supervised_keys[0]].shape),
        file_based=True,
    )
