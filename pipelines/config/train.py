"""The `train:` section: epochs, optimizer and schedule, penalties, callbacks,
distribution, precision, adversarial training and a fine-tuning phase."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from common.config import Named, Strict, as_value_error
from explain.config import AdversarialTrainingConfig
from pipelines.config.distribute import LRScalingConfig, MixedPrecision, StrategyConfig
from pipelines.config.stages import FinetuneConfig
from pipelines.train.optimizers import (
    OPTIMIZERS,
    SCHEDULES,
    check_optimizer_params,
    check_schedule_params,
)

MAX_EPOCHS = 1_000_000  # beyond it Keras fails deep inside fit (an int32 counter)


class OptimizerConfig(Named):
    name: str = "adam"
    learning_rate: float = Field(1e-3, gt=0)

    @field_validator("name")
    @classmethod
    def _known_optimizer(cls, name: str) -> str:
        as_value_error(OPTIMIZERS.get, name)
        return name

    @model_validator(mode="after")
    def _check_params(self) -> OptimizerConfig:
        as_value_error(check_optimizer_params, self.name, self.params)
        return self


class ScheduleConfig(Named):
    name: str = "constant"
    warmup_epochs: float = Field(0.0, ge=0, description="linear warmup from ~0")

    @field_validator("name")
    @classmethod
    def _known_schedule(cls, name: str) -> str:
        as_value_error(SCHEDULES.get, name)
        return name

    @model_validator(mode="after")
    def _check_params(self) -> ScheduleConfig:
        as_value_error(check_schedule_params, self.name, self.params)
        return self


class EarlyStoppingConfig(Strict):
    monitor: str = "val_loss"
    patience: int = Field(5, ge=0)
    min_delta: float = 0.0


class TrainConfig(Strict):
    epochs: int = Field(10, gt=0, le=MAX_EPOCHS)
    optimizer: OptimizerConfig = OptimizerConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    l1: float = Field(0.0, ge=0, description="L1 penalty on every kernel")
    l2: float = Field(0.0, ge=0, description="L2 penalty on every kernel")
    early_stopping: EarlyStoppingConfig | None = None
    checkpoint: bool = Field(True, description="keep the best weights on val metric")
    monitor: str | None = Field(
        None, description="checkpoint metric; default: the task's (val_loss for classifiers)"
    )
    tensorboard: bool = True
    backup: bool = Field(True, description="BackupAndRestore: resume interrupted runs")
    backup_every: int = Field(
        1, ge=1, le=MAX_EPOCHS, description="epochs between backups (and one at the last "
        "epoch); a resumed run repeats at most backup_every - 1 epochs"
    )
    validation_every: int = Field(
        1, ge=1, le=MAX_EPOCHS, description="epochs between validations (Keras' "
        "validation_freq; the last epoch is always validated); checkpoints, early stopping "
        "and the plateau schedule see the validated epochs only"
    )
    strategy: StrategyConfig = StrategyConfig()
    mixed_precision: MixedPrecision = "off"
    lr_scaling: LRScalingConfig | None = None
    steps_per_epoch: int | None = Field(None, gt=0, le=2**31 - 1)
    verbose: Literal["auto", 0, 1, 2] = "auto"
    adversarial: AdversarialTrainingConfig | None = None  # pipelines/train/adversarial.py
    finetune: FinetuneConfig | None = None  # a second, lower-rate phase (tasks/transfer.py)
