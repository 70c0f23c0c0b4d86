"""What the rest of the pipeline knows about a dataset, saved as `spec.json` in a run.

The spec is enough to rebuild the model (input shape, classes, normalization
statistics) without reading the data again, e.g. to evaluate or export a finished run.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any


@dataclasses.dataclass(frozen=True)
class DataSpec:
    task: str
    input_shape: tuple[int, ...]
    raw_dtype: str  # dtype of the raw inputs a deployed model accepts ("uint8", ...)
    input_range: tuple[float, float]  # raw value range, before normalization
    class_names: tuple[str, ...]
    normalize: str  # rescale | standardize | tanh | none
    norm_mean: tuple[float, ...] | None = None  # standardize statistics (train only)
    norm_variance: tuple[float, ...] | None = None
    label_mode: str = "sparse"  # "onehot" when labels are soft (mixup)
    target_shape: tuple[int, ...] = ()  # shape of one label (a mask for segmentation)
    sizes: dict[str, int] = dataclasses.field(default_factory=dict)
    source: str = ""
    file_based: bool = False
    skipped: tuple[str, ...] = ()
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def builder_inputs(self) -> dict[str, Any]:
        """Values a model builder may take from the data (by argument name)."""
        return {"input_shape": self.input_shape, "num_classes": self.num_classes, **self.extra}

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(dataclasses.asdict(self), indent=2))

    @classmethod
    def load(cls, path: Path) -> DataSpec:
        raw = json.loads(Path(path).read_text())
        for key in (
            "input_shape",
            "input_range",
            "class_names",
            "norm_mean",
            "norm_variance",
            "target_shape",
            "skipped",
        ):
            if raw.get(key) is not None:
                raw[key] = tuple(raw[key])
        return cls(**raw)
