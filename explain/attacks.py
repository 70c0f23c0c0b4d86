"""Evasion attacks on the model's raw input range, clipped to valid inputs.

FGSM: Goodfellow, Shlens, Szegedy 2015, "Explaining and harnessing adversarial
examples" (arXiv:1412.6572): x + eps * sign(grad_x loss). BIM: Kurakin, Goodfellow,
Bengio 2017 (arXiv:1607.02533), FGSM iterated with a small step and projection. PGD:
Madry et al. 2018 (arXiv:1706.06083), BIM from a random start in the eps-ball, with
restarts; L-inf and L2 balls. Targeted variants descend the loss of the target class.

Written here rather than taken from a library (tf-explain has no attacks; the
Adversarial Robustness Toolbox runs them through numpy, one batch at a time, and is
only a test dependency); the API follows ART's (`eps`, `eps_step`, `max_iter`,
`num_random_init`, `targeted`), and tests/explain/test_art_agreement.py checks the
results against ART 1.20 on a trained digits CNN: FGSM (L-inf and L2) equal to ART's
FastGradientMethod up to float tolerance, BIM (PGD without random init, L-inf) equal
to ART's ProjectedGradientDescent, L2 PGD close to it, and the universal
perturbation (explain/universal.py) against ART's UniversalPerturbation. The TensorFlow cores
(`fgsm_tf`, `pgd_step_tf`, `project`) also run inside the adversarial-training
`train_step`. Inputs and epsilon are in raw units; outputs are numpy arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from common.errors import UserError
from explain.adapter import Scorer, as_scorer

NORMS = ("inf", "2")


def check_epsilon(
    epsilon: float, input_range: tuple[float, float], norm: str = "inf", dim: int = 1
) -> float:
    """Raise a UserError unless 0 <= epsilon fits inside the input range."""
    lo, hi = input_range
    largest = (hi - lo) * (np.sqrt(dim) if str(norm) == "2" else 1.0)
    if not 0 <= float(epsilon) <= largest:
        raise UserError(
            f"epsilon {epsilon:g} is outside the input range [{lo:g}, {hi:g}]: give 0 <= "
            f"epsilon <= {largest:g} in raw input units (L{norm} norm)"
        )
    return float(epsilon)


def _norm(norm: Any) -> str:
    key = str(norm).lower().removeprefix("l")
    key = "inf" if key in ("inf", "infinity", "np.inf") else key
    if key not in NORMS:
        raise UserError(f"unknown norm {norm!r}; allowed: inf, 2")
    return key


def example_loss(logits: tf.Tensor, y: tf.Tensor, targeted: bool) -> tf.Tensor:
    """Per-example cross-entropy the attack ascends (its negative when targeted)."""
    loss = tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=tf.cast(y, tf.int32), logits=logits
    )
    return -loss if targeted else loss


def loss_gradient(logits_fn: Callable, x: tf.Tensor, y: tf.Tensor, targeted: bool):
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = example_loss(logits_fn(x), y, targeted)
    return loss, tape.gradient(loss, x)


def fgsm_tf(logits_fn, x, y, epsilon, lo, hi, targeted: bool = False, norm: str = "inf"):
    """One step of epsilon along sign(grad) (L-inf), or grad / |grad| (L2: ART's FGM)."""
    _, grad = loss_gradient(logits_fn, x, y, targeted)
    return tf.stop_gradient(tf.clip_by_value(x + epsilon * direction(grad, norm), lo, hi))


def _l2(v: tf.Tensor) -> tf.Tensor:
    axes = tf.range(1, tf.rank(v))
    return tf.sqrt(tf.reduce_sum(tf.square(v), axis=axes, keepdims=True) + 1e-12)


def direction(grad: tf.Tensor, norm: str) -> tf.Tensor:
    """The steepest-ascent step of unit norm: sign(grad) for L-inf, grad / |grad| per
    example for L2 (0 where the gradient is 0). No epsilon is added to |grad|: the
    gradient of a confidently classified input can be 1e-7 and smaller, and ART's
    FGM/PGD divide by the exact norm too."""
    if norm == "inf":
        return tf.sign(grad)
    axes = tf.range(1, tf.rank(grad))
    length = tf.sqrt(tf.reduce_sum(tf.square(grad), axis=axes, keepdims=True))
    return tf.math.divide_no_nan(grad, length)


def project(delta: tf.Tensor, epsilon, norm: str) -> tf.Tensor:
    """Back into the epsilon-ball around zero."""
    if norm == "inf":
        return tf.clip_by_value(delta, -epsilon, epsilon)
    return delta * tf.minimum(1.0, epsilon / _l2(delta))


def pgd_step_tf(logits_fn, x_adv, x0, y, epsilon, step_size, lo, hi, norm, targeted):
    """One ascent step, projected on the epsilon-ball around `x0`, clipped to the range."""
    _, grad = loss_gradient(logits_fn, x_adv, y, targeted)
    delta = project(x_adv + step_size * direction(grad, norm) - x0, epsilon, norm)
    return tf.stop_gradient(tf.clip_by_value(x0 + delta, lo, hi))


def random_init(rng: np.random.Generator, x: np.ndarray, epsilon: float, norm: str):
    """A uniform point of the epsilon-ball (L-inf box, or L2 ball by radius^(1/d))."""
    if norm == "inf":
        return rng.uniform(-epsilon, epsilon, x.shape).astype(np.float32)
    d = int(np.prod(x.shape[1:]))
    direction = rng.normal(size=x.shape)
    direction /= np.linalg.norm(direction.reshape(len(x), -1), axis=1).reshape(
        -1, *[1] * (x.ndim - 1)
    )
    radius = epsilon * rng.uniform(size=(len(x),) + (1,) * (x.ndim - 1)) ** (1.0 / d)
    return (direction * radius).astype(np.float32)


def _prepare(model, x, y, epsilon, input_range, norm="inf"):
    scorer = as_scorer(model, input_range=input_range)
    lo, hi = scorer.range()
    x = scorer.check_inputs(x)
    y = np.asarray(y, np.int64).reshape(-1)
    if len(y) != len(x):
        raise UserError(f"{len(y)} labels for {len(x)} inputs")
    check_epsilon(epsilon, (lo, hi), norm, int(np.prod(x.shape[1:])))
    return scorer, x, y, float(lo), float(hi)


def fgsm(
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epsilon: float,
    input_range: tuple[float, float],
    targeted: bool = False,
    norm: str = "inf",
    batch_size: int = 256,
) -> np.ndarray:
    """Fast gradient sign method; `y` are labels (or targets when `targeted`); with
    `norm="2"` the fast gradient method's L2 step (epsilon along grad / |grad|)."""
    norm = _norm(norm)
    scorer, x, y, lo, hi = _prepare(model, x, y, epsilon, input_range, norm)
    consts = [tf.constant(v, tf.float32) for v in (epsilon, lo, hi)]
    fn = scorer.compiled(
        f"fgsm:{targeted}:{norm}",
        lambda: lambda t, ids, e, a, b: fgsm_tf(scorer.logits, t, ids, e, a, b, targeted, norm),
    )
    out = [
        np.asarray(
            fn(tf.constant(x[i : i + batch_size]), tf.constant(y[i : i + batch_size]), *consts)
        )
        for i in range(0, len(x), batch_size)
    ]
    return np.concatenate(out) if out else x.copy()


def pgd(
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epsilon: float,
    input_range: tuple[float, float],
    norm: str = "inf",
    steps: int = 10,
    step_size: float | None = None,
    random_start: bool = True,
    restarts: int = 1,
    targeted: bool = False,
    seed: int = 0,
    batch_size: int = 256,
    verbose: bool = False,
) -> np.ndarray:
    """Projected gradient descent (BIM with `random_start=False`).

    Args:
        norm: "inf" or "2" (the ball the perturbation stays in).
        step_size: default 2.5 * epsilon / steps (Madry et al.).
        restarts: random restarts; each example keeps its highest-loss run.
        seed: seeds the random starts (numpy), so results repeat.
        verbose: a progress bar over batches x steps x restarts.
    """
    norm = _norm(norm)
    scorer, x, y, lo, hi = _prepare(model, x, y, epsilon, input_range, norm)
    if steps < 1 or restarts < 1:
        raise UserError(f"pgd needs steps >= 1 and restarts >= 1, got {steps}, {restarts}")
    alpha = float(step_size if step_size is not None else 2.5 * epsilon / steps)
    consts = [tf.constant(v, tf.float32) for v in (epsilon, alpha, lo, hi)]
    step = _pgd_step(scorer, norm, targeted)
    rng = np.random.default_rng(seed)
    n_batches = -(-len(x) // batch_size)
    bar = keras.utils.Progbar(n_batches * steps * restarts, unit_name="step") if verbose else None
    best, best_loss = x.copy(), np.full(len(x), -np.inf, np.float32)
    for _ in range(restarts):
        for i in range(0, len(x), batch_size):
            part = slice(i, i + batch_size)
            start = x[part] + (random_init(rng, x[part], epsilon, norm) if random_start else 0.0)
            xa = _iterate(step, np.clip(start, lo, hi), x[part], y[part], steps, consts, bar)
            loss = _losses(scorer, xa, y[part], targeted) if restarts > 1 else np.zeros(len(xa))
            better = loss > best_loss[part]
            best[part][better], best_loss[part][better] = xa[better], loss[better]
    return best


def _pgd_step(scorer: Scorer, norm: str, targeted: bool) -> Callable:
    """The compiled PGD step of this scorer (traced once, reused across calls)."""
    return scorer.compiled(
        f"pgd:{norm}:{targeted}",
        lambda: (
            lambda xa, x0, ids, e, s, a, b: pgd_step_tf(
                scorer.logits, xa, x0, ids, e, s, a, b, norm, targeted
            )
        ),
    )


def _iterate(step, start, x0, y, steps: int, consts, bar) -> np.ndarray:
    xa, x0, y = (tf.constant(v) for v in (start.astype(np.float32), x0, y))
    for _ in range(steps):
        xa = step(xa, x0, y, *consts)
        if bar is not None:
            bar.add(1)
    return np.asarray(xa)


def _losses(scorer: Scorer, x: np.ndarray, y: np.ndarray, targeted: bool) -> np.ndarray:
    return np.asarray(example_loss(tf.constant(scorer.predict(x)), tf.constant(y), targeted))


def bim(model: Any, x: np.ndarray, y: np.ndarray, **kw: Any) -> np.ndarray:
    """Basic iterative method: L-inf PGD without the random start."""
    return pgd(model, x, y, **{**kw, "random_start": False, "norm": "inf"})


def pgd_l2(model: Any, x: np.ndarray, y: np.ndarray, **kw: Any) -> np.ndarray:
    return pgd(model, x, y, **{**kw, "norm": "2"})


ATTACKS: dict[str, Callable[..., np.ndarray]] = {
    "fgsm": fgsm,
    "bim": bim,
    "pgd": pgd,
    "pgd_l2": pgd_l2,
}


def get_attack(name: str | Callable) -> Callable[..., np.ndarray]:
    if callable(name):
        return name
    if name not in ATTACKS:
        raise UserError(f"unknown attack {name!r}; allowed: {', '.join(ATTACKS)}")
    return ATTACKS[name]
