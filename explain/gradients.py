"""Gradient saliency: vanilla gradients, gradient x input, SmoothGrad.

Vanilla gradients: Simonyan, Vedaldi, Zisserman 2014, "Deep inside convolutional
networks" (arXiv:1312.6034). Gradient x input: Shrikumar et al. 2016 (arXiv:1605.01713).
SmoothGrad: Smilkov et al. 2017 (arXiv:1706.03825). Kindermans et al. 2017 ("The
(un)reliability of saliency methods") is why the quality checks exist.

tf-explain has all three. Its `explain()` returns a display grid, so we call its
raw-gradient cores instead, which run unchanged on Keras 3:
`VanillaGradients.compute_gradients` and `GradientsInputs.compute_gradients`. Their
score is `model(x)[:, class_index]`, one class for the whole batch, so we hand them
a score function that already picked each input's own target (index 0). SmoothGrad
is ours: tf-explain's `SmoothGrad.get_averaged_gradients` differentiates a
categorical cross-entropy that assumes softmax outputs (wrong on logits, and of the
opposite sign), and draws unseeded noise of a fixed std of 1.0 whatever the range.
All functions take raw-range inputs and return arrays shaped like the inputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf
from tf_explain.core.gradients_inputs import GradientsInputs
from tf_explain.core.vanilla_gradients import VanillaGradients

from explain.adapter import Scorer, as_scorer


def target_score(scorer: Scorer, targets):
    """A one-column score function: each input's target logit (for tf-explain)."""
    return lambda x: tf.gather(scorer.logits(x), targets, axis=1, batch_dims=1)[:, None]


def _batched(scorer: Scorer, key: str, core, x: np.ndarray, targets: np.ndarray, batch_size: int):
    # `python_function` runs tf-explain's code inside our own compiled function, so it
    # is traced once per scorer (not once per call and class, as its own decorator is).
    fn = scorer.compiled(
        key, lambda: lambda t, ids: core.python_function(t, target_score(scorer, ids), 0)
    )
    out = [
        np.asarray(fn(tf.constant(x[i : i + batch_size]), tf.constant(targets[i : i + batch_size])))
        for i in range(0, len(x), batch_size)
    ]
    return np.concatenate(out).astype(np.float32)


def vanilla_gradients(
    model: Any, inputs: np.ndarray, *, target: Any = None, batch_size: int = 64, **kw: Any
) -> np.ndarray:
    """d logit[target] / d input, shaped like `inputs` (target None: the prediction)."""
    scorer = as_scorer(model, **kw)
    x = scorer.check_inputs(inputs)
    targets = scorer.targets(x, target)
    return _batched(scorer, "vanilla", VanillaGradients.compute_gradients, x, targets, batch_size)


def gradient_x_input(
    model: Any, inputs: np.ndarray, *, target: Any = None, batch_size: int = 64, **kw: Any
) -> np.ndarray:
    """Gradient times the raw input (a zero baseline in raw units)."""
    scorer = as_scorer(model, **kw)
    x = scorer.check_inputs(inputs)
    targets = scorer.targets(x, target)
    return _batched(scorer, "gradxinput", GradientsInputs.compute_gradients, x, targets, batch_size)


def smoothgrad(
    model: Any,
    inputs: np.ndarray,
    *,
    target: Any = None,
    samples: int = 25,
    noise: float = 0.15,
    seed: int = 0,
    batch_size: int = 64,
    **kw: Any,
) -> np.ndarray:
    """Mean gradient over `samples` noisy copies (noise std = `noise` x input range).

    The noise is drawn from `np.random.default_rng(seed)`: same seed, same map.
    """
    scorer = as_scorer(model, **kw)
    x = scorer.check_inputs(inputs)
    targets = scorer.targets(x, target)
    lo, hi = scorer.range()
    rng = np.random.default_rng(seed)
    total = np.zeros_like(x)
    for _ in range(samples):
        noisy = x + rng.normal(0.0, noise * (hi - lo), x.shape).astype(np.float32)
        total += _batched(
            scorer, "vanilla", VanillaGradients.compute_gradients, noisy, targets, batch_size
        )
    return total / samples
