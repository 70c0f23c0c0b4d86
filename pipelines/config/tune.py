"""The recipe's `tune:` section: what to search, with which tuner, on which budget.

```yaml
tune:
  space: cnn                      # optional built-in space(s): `dlzoo tune --spaces` lists them
  params:                         # key path into the recipe -> range
    model.params.blocks: {int: [1, 3]}
    train.optimizer.learning_rate: {float: [1.0e-4, 1.0e-2], log: true}
    train.optimizer.name: {choice: [adam, sgd]}
    data.batch_size: [32, 64]     # a bare list is a choice
  tuner: hyperband                # random | hyperband | bayesian
  objective: val_accuracy
  max_epochs: 9
```

This module is the section's shape (unknown keys and malformed ranges fail when any
recipe loads). What needs the search code, the built-in space names and trying every
range end on the recipe, is checked by `tuning.config.check_search` when `dlzoo tune`
loads the recipe: an unknown key path, an empty choice list or a bad value then fails
with `tune.params.<path>` before any training.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from common.config import Strict

KINDS = ("int", "float", "choice", "boolean", "fixed")


class ParamRange(Strict):
    """One searched value: `{int: [lo, hi]}`, `{float: [lo, hi], log: true}`,
    `{choice: [...]}` (or a bare list), `{boolean: true}`, `{fixed: value}`."""

    kind: Literal["int", "float", "choice", "boolean", "fixed"]
    low: float | None = None
    high: float | None = None
    values: list[Any] = Field(default_factory=list)
    step: float | None = Field(None, gt=0)
    log: bool = False

    @model_validator(mode="before")
    @classmethod
    def _from_yaml(cls, raw: Any) -> Any:
        if isinstance(raw, list):
            raw = {"choice": raw}
        if isinstance(raw, dict) and "kind" in raw:
            return raw  # already normalized (a dumped config read back)
        if not isinstance(raw, dict):
            raise ValueError(f"expected one of {{{', '.join(KINDS)}: ...}} or a list, got {raw!r}")
        kinds = [k for k in KINDS if k in raw]
        if len(kinds) != 1:
            raise ValueError(f"give exactly one of {', '.join(KINDS)}; got keys {sorted(raw)}")
        kind, rest = kinds[0], {k: v for k, v in raw.items() if k != kinds[0]}
        value = raw[kind]
        if kind in ("int", "float"):
            if not (isinstance(value, list) and len(value) == 2):
                raise ValueError(f"{kind}: expects [min, max], got {value!r}")
            return {"kind": kind, "low": value[0], "high": value[1], **rest}
        if kind == "choice":
            return {"kind": kind, "values": value, **rest}
        return {"kind": kind, "values": [value], **rest}

    @model_validator(mode="after")
    def _check(self) -> ParamRange:
        if self.kind in ("int", "float"):
            if self.low > self.high:
                raise ValueError(f"min {self.low:g} > max {self.high:g}")
            if self.log and self.low <= 0:
                raise ValueError(f"log: true needs min > 0, got {self.low}")
            if self.kind == "int" and not (self.low.is_integer() and self.high.is_integer()):
                raise ValueError(f"int: bounds must be integers, got [{self.low}, {self.high}]")
        elif self.kind == "choice":
            if not self.values:
                raise ValueError("choice: the list is empty; give at least one value")
            _check_choice_types(self.values)
        return self

    def candidates(self) -> list[Any]:
        """The values checked against the recipe at load (both ends, every choice)."""
        if self.kind == "int":
            return [int(self.low), int(self.high)]
        if self.kind == "float":
            return [self.low, self.high]
        if self.kind == "boolean":
            return [False, True]
        return list(self.values)


def _check_choice_types(values: list[Any]) -> None:
    """KerasTuner's Choice holds scalars of one type (ints and floats may mix)."""
    kinds = {type(v) for v in values}
    if not kinds <= {int, float, str, bool} or (bool in kinds and len(kinds) > 1):
        raise ValueError(
            f"choice: values must be numbers, strings or booleans of one kind, got {values!r}"
        )
    if str in kinds and len(kinds) > 1:
        raise ValueError(f"choice: mixes strings and numbers: {values!r}")


class TrialEarlyStopping(Strict):
    """Stop a trial when its objective stops improving (Keras EarlyStopping)."""

    patience: int = Field(3, ge=0)
    min_delta: float = Field(0.0, ge=0)


class RobustObjective(Strict):
    """Also measure each trial's validation accuracy under an attack
    (`explain.robustness.accuracy_under_attack`), logged as `val_robust_accuracy`."""

    attack: str = "fgsm"
    epsilon: float = Field(gt=0, description="in the data's raw units (e.g. 0..16 for digits)")
    max_examples: int = Field(512, gt=0, description="validation examples attacked per epoch")
    params: dict[str, Any] = Field(default_factory=dict, description="attack options")


class TuneConfig(Strict):
    space: list[str] = Field(default_factory=list, description="built-in search space(s)")
    params: dict[str, ParamRange] = Field(default_factory=dict)
    tuner: Literal["random", "hyperband", "bayesian"] = "random"
    objective: str = "val_accuracy"
    direction: Literal["min", "max"] | None = Field(None, description="default: from the name")
    max_trials: int | None = Field(None, gt=0, description="default 10 (hyperband: no cap)")
    max_epochs: int | None = Field(None, gt=0, description="per trial; default train.epochs")
    max_time: float | None = Field(None, gt=0, description="seconds; no trial starts after")
    factor: int = Field(3, ge=2, description="hyperband reduction factor")
    hyperband_iterations: int = Field(1, ge=1)
    num_initial_points: int | None = Field(None, gt=0, description="bayesian random start")
    executions_per_trial: int = Field(1, ge=1)
    cv: int | None = Field(
        None, ge=2, description="k-fold cross-validation on train+val: a trial's score is "
        "the mean over the k folds' best epochs, with its standard error")
    early_stopping: TrialEarlyStopping | None = None
    seed: int | None = Field(None, description="search seed; default the recipe's")
    robustness: RobustObjective | None = None
    refit_on_val: bool = Field(True, description="best_config.yaml trains on train+val")
    replay_seeds: int = Field(
        0, ge=0, le=20, description="after the search, retrain best_config.yaml and "
        "trial0_config.yaml at this many seeds and compare their test scores (report)")
    workers: int = Field(0, ge=0, description="default --workers (0: search in-process)")

    @field_validator("space", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check(self) -> TuneConfig:
        if not self.space and not self.params:
            raise ValueError("nothing to search; give `space:` and/or `params:`")
        if self.cv is not None and self.tuner == "hyperband":
            raise ValueError(
                "tune.cv with tuner: hyperband: Hyperband continues one model's training "
                "from round to round, and a cross-validated trial trains k; use random "
                "or bayesian"
            )
        if "robust" in self.objective and self.robustness is None:
            raise ValueError(
                f"objective {self.objective!r} needs a `tune.robustness:` section"
            )
        return self

    @property
    def resolved_direction(self) -> str:
        return self.direction or ("min" if "loss" in self.objective else "max")


