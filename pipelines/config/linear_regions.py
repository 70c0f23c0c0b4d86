"""The `linear_regions:` section: count the linear regions of a trained ReLU network
on a square of its 2-D input space, and those of fresh random initializations of the
same architecture (pipelines/stages/linear_regions.py).

```yaml
linear_regions: {grid: 300, inits: 200, bias_std: 0.1}
```
"""

from __future__ import annotations

from pydantic import Field, field_validator

from common.config import Strict


class LinearRegionsConfig(Strict):
    grid: int = Field(
        300, ge=16, le=4000,
        description="points per side of the grid of the square (a grid can only undercount)",
    )
    inits: int = Field(200, ge=1, le=5000, description="random initializations counted")
    bias_std: float = Field(
        0.1, gt=0,
        description="random inits: He-normal weights, N(0, bias_std^2) biases (small: the "
        "units' boundaries cross inside the square)",
    )
    square: tuple[float, float] | None = Field(
        None, description="[low, high] of the square on both inputs; default: the data's range"
    )

    @field_validator("square")
    @classmethod
    def _ordered(cls, square: tuple[float, float] | None) -> tuple[float, float] | None:
        if square is not None and not square[0] < square[1]:
            raise ValueError(f"square must be [low, high] with low < high; received {list(square)}")
        return square
