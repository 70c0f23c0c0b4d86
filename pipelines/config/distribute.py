"""Recipe sections for distributed training: `train.strategy`, `train.mixed_precision`,
`train.lr_scaling`.

Kept free of TensorFlow (pipelines/config/experiment.py imports it while loading a recipe);
the runtime side is `pipelines/train/distribute/strategy.py`, `pipelines/train/precision.py`,
`pipelines/train/distribute/multiworker.py`.

    train:
      strategy: mirrored                       # default | mirrored | multi_worker | tpu
      strategy: {name: mirrored, logical_cpus: 2}
      strategy: {name: mirrored, devices: ["/gpu:0", "/gpu:1"]}
      strategy: {name: multi_worker, workers: 2}   # N local processes (testing)
      strategy: {name: tpu, tpu: my-tpu-name}
      mixed_precision: auto                    # off | auto | mixed_float16 | mixed_bfloat16
      lr_scaling: {reference_batch: 32}        # Goyal et al. 2017
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from common.config import Strict

STRATEGY_NAMES = ("default", "mirrored", "multi_worker", "tpu")

# Which keys each strategy reads; a key set for another strategy is a mistake.
_KEYS_FOR = {
    "devices": ("mirrored",),
    "logical_cpus": ("mirrored",),
    "workers": ("multi_worker",),
    "max_restarts": ("multi_worker",),
    "communication": ("multi_worker",),
    "tpu": ("tpu",),
}


class StrategyConfig(Strict):
    """Which tf.distribute strategy trains the model; also accepts the bare name."""

    name: Literal["default", "mirrored", "multi_worker", "tpu"] = "default"
    devices: list[str] | None = Field(
        None, description="mirrored: these devices (default: every local GPU, else the CPU)"
    )
    logical_cpus: int | None = Field(
        None, ge=2, description="mirrored: split the CPU into N logical devices (no GPU needed)"
    )
    workers: int | None = Field(
        None, ge=1, description="multi_worker: launch N local worker processes on 127.0.0.1"
    )
    max_restarts: int = Field(
        1, ge=0, description="multi_worker launcher: restart the cluster after a crash"
    )
    communication: Literal["auto", "ring", "nccl"] = Field(
        "auto", description="multi_worker: collective implementation"
    )
    tpu: str | None = Field(
        None, description="tpu: TPU name or grpc:// address; '' or 'local' for a TPU VM"
    )
    loop: Literal["auto", "fit", "custom"] = Field(
        "auto",
        description="auto: Keras fit, except multi_worker (dlzoo's distributed loop)",
    )

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _keys_match_strategy(self) -> StrategyConfig:
        for key, names in _KEYS_FOR.items():
            # compare with the default: a dumped config (config.yaml) lists every key
            default = type(self).model_fields[key].default
            if getattr(self, key) != default and self.name not in names:
                raise ValueError(
                    f"train.strategy.{key} applies to strategy {' / '.join(names)}, "
                    f"not {self.name!r}"
                )
        if self.devices is not None and self.logical_cpus is not None:
            raise ValueError(
                "train.strategy: give devices or logical_cpus, not both "
                "(logical_cpus makes the devices /cpu:0 ... /cpu:N-1)"
            )
        if self.devices is not None and not self.devices:
            raise ValueError("train.strategy.devices: an empty list; name at least one device")
        return self

    @property
    def uses_custom_loop(self) -> bool:
        """Keras 3 `fit` fails under MultiWorkerMirroredStrategy (keras-team/keras#20585)."""
        if self.loop == "auto":
            return self.name == "multi_worker"
        return self.loop == "custom"


MixedPrecision = Literal["off", "auto", "mixed_float16", "mixed_bfloat16"]


class LRScalingConfig(Strict):
    """Linear learning-rate scaling with gradual warmup (Goyal et al. 2017, "Accurate,
    large minibatch SGD"): the recipe's rate was tuned at `reference_batch`; at global
    batch B it becomes rate * B / reference_batch, reached by a linear warmup."""

    reference_batch: int = Field(gt=0, description="the batch size the learning rate was tuned at")
    warmup_epochs: float = Field(
        5.0, ge=0, description="linear warmup (the paper: 5); at least train.schedule's"
    )

    def factor(self, global_batch: int) -> float:
        return global_batch / self.reference_batch


def scaled_learning_rate(train: Any, global_batch: int) -> tuple[float, float]:
    """(base learning rate, warmup epochs) for `train` (a TrainConfig) at this batch:
    the recipe's own values, or linearly scaled with at least `lr_scaling.warmup_epochs`
    of warmup when `train.lr_scaling` is set."""
    lr, warmup = train.optimizer.learning_rate, train.schedule.warmup_epochs
    scaling = train.lr_scaling
    if scaling is None:
        return lr, warmup
    return lr * scaling.factor(global_batch), max(warmup, scaling.warmup_epochs)
