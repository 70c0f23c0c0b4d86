"""Recipe sections of the vision catalog's stages (import-light: pydantic only, since
`pipelines.config.experiment` imports this module).

```yaml
claim:                       # what the run is meant to show, checked on its metrics
  text: Plain SGD ends with the highest training loss.
  check: final_loss['sgd'] > max(final_loss['adam'], final_loss['momentum'])
pretrain:                    # train a backbone first; fills in model.params.weights: pretrain
  set: {data.classes: [0, 1, 2, 3, 4], model: {name: lenet5}}
train:
  finetune: {epochs: 10, learning_rate: 1.0e-4, unfreeze_top: 4}   # a second phase
activations: {layers: "dense*_act"}   # per-layer activation mean/std, at init and trained
cam: {images: 12}            # class activation maps (allconv_gap, nin, resnets)
```
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from common.config import Strict
from pipelines.stages.claim_expr import ClaimError, parse


class ClaimConfig(Strict):
    text: str = Field(description="the claim, in words, as the report states it")
    check: str = Field(description="expression over the metrics (pipelines/stages/claim_expr.py)")

    @field_validator("check")
    @classmethod
    def _parses(cls, text: str) -> str:
        try:
            parse(text)
        except ClaimError as err:
            raise ValueError(str(err)) from None
        return text


class PretrainConfig(Strict):
    recipe: str | None = Field(None, description="a recipe file; default: this recipe")
    set: dict[str, Any] = Field(
        default_factory=dict, description="key.path -> value overrides for the pretraining run"
    )
    reuse: bool = Field(True, description="reuse a finished pretraining run of the same config")


class FinetuneConfig(Strict):
    epochs: int = Field(gt=0, description="epochs of the second (fine-tuning) phase")
    learning_rate: float = Field(gt=0, description="usually 10-100x lower than phase 1")
    unfreeze_top: int | None = Field(
        None, ge=0, description="backbone layers with weights to train (null: all)"
    )


class ActivationStatsConfig(Strict):
    layers: str = Field("*_act", description="glob on the network's layer names")
    examples: int = Field(500, gt=0, description="training examples fed through")


class CamConfig(Strict):
    images: int = Field(12, gt=0, le=64)
    split: Literal["val", "test"] = "test"
