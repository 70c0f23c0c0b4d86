"""`train.adversarial`: the assembled classifier wrapped for adversarial training."""

from __future__ import annotations

import keras

from explain.adversarial import adversarial_trainer
from explain.attacks import check_epsilon
from explain.config import AdversarialTrainingConfig
from pipelines.data.spec import DataSpec


def with_adversarial_training(
    model: keras.Model, cfg: AdversarialTrainingConfig | None, spec: DataSpec, seed: int = 0
) -> keras.Model:
    """`model` itself (no `train.adversarial`), or wrapped to train on FGSM/PGD examples.

    Raises:
        UserError: epsilon outside the data's input range.
    """
    if cfg is None:
        return model
    check_epsilon(cfg.epsilon, spec.input_range)
    return adversarial_trainer(
        model,
        attack=cfg.attack,
        epsilon=cfg.epsilon,
        input_range=spec.input_range,
        ratio=cfg.ratio,
        steps=cfg.steps,
        step_size=cfg.step_size,
        random_start=cfg.random_start,
        seed=seed,
    )
