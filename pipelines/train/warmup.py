"""Linear learning-rate warmup in front of any schedule (Goyal et al. 2017)."""

from __future__ import annotations

from typing import Any

import keras


@keras.saving.register_keras_serializable(package="dlzoo")
class Warmup(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup over `warmup_steps` (Goyal et al. 2017), then `after`."""

    def __init__(self, after: Any, warmup_steps: int, base_lr: float) -> None:
        self.after, self.warmup_steps, self.base_lr = after, warmup_steps, base_lr

    def __call__(self, step):
        step = keras.ops.cast(step, "float32")
        ramp = self.base_lr * (step + 1) / self.warmup_steps
        later = self.after(step - self.warmup_steps) if callable(self.after) else self.after
        return keras.ops.where(step < self.warmup_steps, ramp, later)

    def get_config(self) -> dict[str, Any]:
        return {
            "after": keras.saving.serialize_keras_object(self.after),
            "warmup_steps": self.warmup_steps,
            "base_lr": self.base_lr,
        }
