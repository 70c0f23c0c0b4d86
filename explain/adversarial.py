"""Adversarial examples for training: FGSM and PGD as one function of the batch, and
the adversarially trained classifier built from them.

`models.adversarial_training.AdversarialTrainer` runs the training step; this module
supplies its `make_examples` from the attacks of `explain.attacks` (same gradients,
same clipping to the raw input range).
"""

from __future__ import annotations

from typing import Literal

import keras
import tensorflow as tf

from explain.attacks import fgsm_tf, pgd_step_tf
from models.adversarial_training import AdversarialTrainer, ExampleMaker


def example_maker(
    attack: Literal["fgsm", "pgd"],
    *,
    epsilon: float,
    input_range: tuple[float, float],
    steps: int = 7,
    step_size: float | None = None,
    random_start: bool = True,
) -> ExampleMaker:
    """`(logits_fn, x, y, seed_generator) -> x_adv` for FGSM (one step) or PGD L-inf
    (Madry et al. 2018: a random start in the epsilon-box, `steps` signed steps of
    `step_size`, default 2.5 * epsilon / steps)."""
    low, high = (float(v) for v in input_range)
    epsilon = float(epsilon)
    if attack == "fgsm":
        return lambda logits, x, y, _seed: fgsm_tf(logits, x, y, epsilon, low, high)
    step = float(step_size or 2.5 * epsilon / steps)

    def pgd(logits, x, y, seed_generator):
        x_adv = x
        if random_start:
            noise = keras.random.uniform(tf.shape(x), -epsilon, epsilon, seed=seed_generator)
            x_adv = tf.clip_by_value(x + noise, low, high)
        for _ in range(steps):
            x_adv = pgd_step_tf(logits, x_adv, x, y, epsilon, step, low, high, "inf", False)
        return x_adv

    return pgd


def adversarial_trainer(
    classifier: keras.Model,
    *,
    epsilon: float,
    input_range: tuple[float, float],
    attack: Literal["fgsm", "pgd"] = "fgsm",
    ratio: float = 0.5,
    steps: int = 7,
    step_size: float | None = None,
    random_start: bool = True,
    seed: int = 0,
) -> AdversarialTrainer:
    """`classifier` trained on clean and FGSM/PGD examples of each batch (`ratio` adversarial)."""
    maker = example_maker(attack, epsilon=epsilon, input_range=input_range, steps=steps,
                          step_size=step_size, random_start=random_start)
    return AdversarialTrainer(classifier, make_examples=maker, ratio=ratio, seed=seed)
