"""The `data:` section: which source, how it is split, resized, normalized, augmented,
batched and shuffled (pipelines/data builds it)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PositiveInt, field_validator, model_validator

from common.config import Strict, as_value_error
from common.registry import validate_params
from pipelines.config.text import TextConfig
from pipelines.data.augment import AUGMENTATIONS
from pipelines.data.augment import INJECTED as AUG_INJECTED
from pipelines.data.sources import INJECTED, SOURCES


class FoldConfig(Strict):
    """One fold of k-fold cross-validation: train on the other k - 1 folds of
    train+validation, validate on this one (the test split stays untouched)."""

    k: int = Field(ge=2, description="number of folds")
    index: int = Field(ge=0, description="the held-out fold, 0 .. k - 1")

    @model_validator(mode="after")
    def _in_range(self) -> FoldConfig:
        if self.index >= self.k:
            raise ValueError(f"data.fold.index: {self.index} is not a fold of k={self.k} "
                             f"(0 .. {self.k - 1})")
        return self


class DataConfig(Strict):
    source: str = Field(description="data source name; `dlzoo datasets` lists them")
    params: dict[str, Any] = Field(default_factory=dict, description="source options")
    data_dir: str | None = Field(
        None,
        description="where file sources are looked up; "
        "default $DLZOO_DATA_DIR, then the working directory",
    )
    image_size: tuple[PositiveInt, PositiveInt] | None = Field(
        None, description="[height, width] to resize images to"
    )
    color_mode: Literal["keep", "grayscale", "rgb"] = "keep"
    val_fraction: float = Field(0.1, gt=0, lt=1)
    test_fraction: float = Field(0.2, gt=0, lt=1)
    classes: list[int] | None = Field(None, description="keep only these class ids")
    per_class: int | None = Field(None, gt=0, description="training examples per class")
    normalize: Literal["rescale", "standardize", "tanh", "none"] = "rescale"
    augment: dict[str, dict[str, Any]] = Field(default_factory=dict)
    batch_size: int = Field(32, gt=0)
    shuffle_buffer: int = Field(10_000, gt=0)
    cache: bool = True
    cache_dir: str | None = Field(
        None, description="write the decoded, resized examples here once (tf.data "
        "snapshot) and read them on later runs instead of decoding the files again")
    deterministic: bool = True
    skip_corrupt: bool = False
    train_on_val: bool = Field(
        False,
        description="fold the validation split into training (the refit after a "
        "search); val metrics are then no longer held out",
    )
    fold: FoldConfig | None = Field(
        None, description="cross-validation fold (set by `tune.cv`): val is fold `index` "
        "of train+val, train the rest")
    text: TextConfig | None = Field(None, description="text vectorization (text sources)")

    @field_validator("source")
    @classmethod
    def _known_source(cls, name: str) -> str:
        as_value_error(SOURCES.get, name)
        return name

    @field_validator("augment")
    @classmethod
    def _known_augmentations(cls, augment: dict[str, dict[str, Any]]) -> dict:
        for name in augment:
            as_value_error(AUGMENTATIONS.get, name)
        return augment

    @model_validator(mode="after")
    def _check_params(self) -> DataConfig:
        if self.fold is not None and self.train_on_val:
            raise ValueError("data.fold and data.train_on_val: a cross-validation fold needs "
                             "its validation split; set one of them")
        as_value_error(
            validate_params,
            SOURCES.get(self.source).fn,
            self.params,
            where="data.params",
            skip=INJECTED,
        )
        for name, params in self.augment.items():
            as_value_error(
                validate_params,
                AUGMENTATIONS.get(name),
                params or {},
                where=f"data.augment.{name}",
                skip=AUG_INJECTED,
            )
        return self

    def resolved_data_dir(self) -> Path:
        return Path(self.data_dir or os.environ.get("DLZOO_DATA_DIR") or ".")
