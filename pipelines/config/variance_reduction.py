"""The `variance_reduction:` section: SVRG against SGD (plain and Polyak-averaged),
SAG and Nesterov on L2-regularised softmax regression of the run's training split
(pipelines/stages/variance_reduction.py).

```yaml
variance_reduction:
  l2: 1.0e-2          # lambda of f(w) = mean log-loss + lambda/2 ||w||^2
  passes: 30          # budget: gradient evaluations = passes * n, for every method
  step: 0.5           # the constant step of SGD, SVRG and SAG, in units of 1 / L_max
  snapshot_every: 2.0 # SVRG's m, inner steps per snapshot, in units of n
```
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from common.config import Strict

METHODS = ("sgd", "averaged_sgd", "svrg", "sag", "nesterov")


class VarianceReductionConfig(Strict):
    l2: float = Field(1e-2, gt=0, description="L2 penalty lambda: f is lambda-strongly convex")
    passes: int = Field(30, gt=0, le=1000, description="gradient evaluations / n, per method")
    step: float = Field(
        0.5, gt=0, le=2.0,
        description="constant step of SGD, SVRG and SAG, times 1/L_max (L_max: the largest "
        "per-example smoothness constant)",
    )
    snapshot_every: float = Field(2.0, gt=0, le=50, description="SVRG's m, in units of n")
    methods: list[Literal["sgd", "averaged_sgd", "svrg", "sag", "nesterov"]] = Field(
        default_factory=lambda: list(METHODS), min_length=1,
        description="which methods run (sgd and svrg are needed for the floor comparison)",
    )
    floor_tail: float = Field(
        0.5, gt=0, le=1,
        description="SGD's noise floor: its median suboptimality over this last fraction "
        "of the budget",
    )

    @field_validator("methods")
    @classmethod
    def _compared(cls, methods: list[str]) -> list[str]:
        missing = [m for m in ("sgd", "svrg") if m not in methods]
        if missing:
            raise ValueError(
                f"variance_reduction.methods: {', '.join(missing)} must be listed (the "
                f"report compares SVRG with SGD's floor); got {methods}"
            )
        return methods
