"""The `generative:` recipe section: what generative runs show and measure.

```yaml
generative:
  samples_every: 2        # sample grid from a fixed noise batch every 2 epochs
                          # (default: a fifth of train.epochs)
  judge: {model: mlp, params: {width: [256, 128]}, epochs: 10}
  eval_samples: 5000      # generated images for the Frechet distance and histograms
  parzen: {samples: 10000}
```

Absent, the defaults below apply to every generative or autoencoder model. Per-player
training hyperparameters live elsewhere: the optimizer and learning rate in
`train.optimizer` (cloned for each player), the discriminator's learning-rate ratio
in `model.params.d_lr_scale`.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from common.config import Strict
from common.errors import UserError
from models.manifest import catalog
from pipelines.config.model import check_model_params


class JudgeConfig(Strict):
    """The classifier whose features and labels measure generated images.

    Trained by dlzoo on the run's own data (same splits and seed) into `<run>/judge/`,
    or taken from a finished dlzoo classifier run on the same data (`run_dir`).
    """

    model: str = Field("mlp", description="registered classifier")
    params: dict[str, Any] = Field(
        default_factory=lambda: {"width": [256, 128], "dropout": 0.2},
        description="the classifier's builder options",
    )
    epochs: int = Field(15, gt=0)
    learning_rate: float = Field(1e-3, gt=0)
    run_dir: str | None = Field(None, description="reuse this finished classifier run")

    @model_validator(mode="after")
    def _known_classifier(self) -> JudgeConfig:
        if self.model in catalog() and catalog()[self.model].task != "classify":
            raise ValueError(f"generative.judge.model: {self.model!r} is not a classifier")
        try:
            check_model_params(self.model, self.params, where="generative.judge.params")
        except UserError as err:
            message = str(err).replace("generative.judge.name", "generative.judge.model")
            raise ValueError(message) from None
        return self


class ParzenConfig(Strict):
    """Gaussian Parzen-window log-likelihood (the GAN and AAE papers' protocol)."""

    samples: int = Field(10_000, gt=0, description="generated samples in the window")
    sigmas: list[float] | None = Field(
        None, description="window widths tried on the validation split (pixels in [0, 1])"
    )
    max_eval: int | None = Field(None, gt=0, description="cap on validation/test examples")

    @field_validator("sigmas")
    @classmethod
    def _positive(cls, sigmas: list[float] | None) -> list[float] | None:
        if sigmas is not None and (not sigmas or min(sigmas) <= 0):
            raise ValueError("generative.parzen.sigmas: give one or more positive widths")
        return sigmas


class GenerativeConfig(Strict):
    samples_every: int | None = Field(
        None, gt=0, description="epochs between sample grids (and one at the end); "
        "default: a fifth of train.epochs, so about 5 grids (a grid costs 1.5-2.5 s, "
        "a DCGAN epoch on the digits about 1.6 s: benchmarks/against_keras.py)")
    grid: int = Field(8, ge=2, le=16, description="sample grids are grid x grid images")
    interpolation_steps: int = Field(10, ge=3, le=20)
    judge: JudgeConfig | None = Field(
        default_factory=JudgeConfig,
        description="classifier for the Frechet distance and class histograms; null: none",
    )
    eval_samples: int = Field(5000, gt=0, description="generated images for the metrics")
    fd_samples: int = Field(
        2000, gt=0, description="generated images for the per-epoch val_fd (checkpoints)"
    )
    fd_every: int = Field(
        1, ge=1, le=100_000, description="epochs between val_fd evaluations (and the last "
        "epoch); the best checkpoint is chosen among them. Each costs fd_samples "
        "generated and embedded images")
    parzen: ParzenConfig | None = Field(default_factory=ParzenConfig)
