"""What a data source returns, and the registry sources are listed in.

A source turns its options into raw examples per split; everything after that
(splitting, decoding, resizing, caching, batching, augmentation) is the builder's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from common.errors import UserError
from common.registry import Registry


@dataclasses.dataclass
class Split:
    """Examples of one split, in memory.

    `x` holds the inputs themselves, or file paths when the source sets `decode`.
    `extras` carries per-example side data kept aligned through splits and
    filters (e.g. ground-truth masks of the `shapes` set).
    """

    x: np.ndarray
    y: np.ndarray
    extras: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.y)

    def take(self, index: np.ndarray) -> Split:
        return Split(self.x[index], self.y[index], {k: v[index] for k, v in self.extras.items()})


@dataclasses.dataclass
class SourceData:
    """Raw splits plus what the rest of the pipeline needs to know about them.

    Attributes:
        splits: any of "train", "val", "test"; missing val/test are carved from train.
            A split may be a ready `tf.data.Dataset` of (x, y) (tfds), which is then
            used as is: such sources must provide every split themselves.
        task: "classify", "segment", "regress", ...
        class_names: one name per class id.
        input_range: the raw value range of x (e.g. (0, 255) for uint8 images).
        decode: for file lists, a TF function path -> image tensor.
        element_shape: shape of one decoded x when `x` holds paths.
        file_based: examples come from files (the auto-shard policy FILE applies).
        skipped: corrupt files skipped under `data.skip_corrupt`, by path.
        text: x holds strings to vectorize (`pipelines.data.text_bundle` builds them).
    """

    splits: dict[str, Any]
    class_names: list[str]
    input_range: tuple[float, float]
    task: str = "classify"
    decode: Callable | None = None
    element_shape: tuple[int, ...] | None = None
    file_based: bool = False
    skipped: list[str] = dataclasses.field(default_factory=list)
    text: bool = False


@dataclasses.dataclass(frozen=True)
class SourceEntry:
    name: str
    fn: Callable[..., SourceData]
    description: str
    offline: bool


SOURCES: Registry[SourceEntry] = Registry("data source")


def register_source(name: str, *, offline: bool = True) -> Callable:
    """Register `fn(*, data_dir, skip_corrupt, **options) -> SourceData` under `name`."""

    def wrap(fn: Callable[..., SourceData]) -> Callable[..., SourceData]:
        doc = (fn.__doc__ or "").strip().splitlines()
        SOURCES.add(name, SourceEntry(name, fn, doc[0] if doc else "", offline))
        return fn

    return wrap


# Arguments the builder passes to every source itself; recipes set the rest.
INJECTED = ("data_dir", "skip_corrupt")


def resolve_path(data_dir: Path, path: str, *, what: str) -> Path:
    """`path` as given if absolute or present, else under `data_dir`; must exist."""
    candidate = Path(path).expanduser()
    if not candidate.is_absolute() and not candidate.exists():
        candidate = data_dir / candidate
    if not candidate.exists():
        raise UserError(
            f"{what} not found: {path} (looked in the working directory and in "
            f"the data directory {data_dir}; set data.data_dir or $DLZOO_DATA_DIR)"
        )
    return candidate
