"""What `pipelines.data.build` returns: batched train/val/test datasets and their spec."""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from pipelines.data.epochs import EpochOrder
from pipelines.data.source import Split
from pipelines.data.spec import DataSpec


@dataclasses.dataclass
class DataBundle:
    """Batched datasets plus the spec; `raw` keeps the in-memory splits when known
    (the training split in the permuted order it is fed in). Trainers call
    `order.start(epoch)` before each epoch (`pipelines.data.epochs.EpochSeeds`)."""

    spec: DataSpec
    train: tf.data.Dataset
    val: tf.data.Dataset
    test: tf.data.Dataset
    raw: dict[str, Split]
    order: EpochOrder | None = None  # the training split's epoch (shuffle, augmentation)

    def split(self, name: str) -> tf.data.Dataset:
        return {"train": self.train, "val": self.val, "test": self.test}[name]
