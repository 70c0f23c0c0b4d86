"""Universal adversarial perturbations (Moosavi-Dezfooli, Fawzi, Fawzi, Frossard 2017,
"Universal adversarial perturbations", arXiv:1610.08401).

One perturbation `v`, within an L-inf or L2 ball of radius `epsilon` (raw input units),
computed on training images, that changes the model's prediction on most unseen
images: `fooling_rate(model, x_test, v)` against `random_perturbation` of the same
norm, the control the paper compares with.

Two ways to compute it (`attacker`):

* "fgsm" / "pgd": the paper's algorithm as ART's `UniversalPerturbation` runs it:
  pass over the training images in a random order; for each image `x + v` still
  classified as its label, attack it (one FGSM step of `attacker_eps`, or `attacker_steps`
  BIM steps inside an `attacker_eps` ball) and, when the attack flips the label, set `v`
  to the new offset projected back on the budget ball; stop after `max_iter` passes or
  when the training fooling rate reaches `fooling_target` (ART's 1 - delta).
* "sgd" (default): the batched variant (Shafahi et al. 2020, "Universal adversarial
  training", arXiv:1812.03705): signed-gradient ascent on the mean cross-entropy of
  minibatches of `x + v`, each example's loss capped at `loss_cap` so the images already
  fooled stop steering `v`, projected after every step. On CPU it is the better choice:
  one compiled step per minibatch instead of two model calls per image, and at the
  same budget it fools more unseen digits than the per-image loop (README, attacks).

Written here: ART's version (checked against it in tests/explain/test_art_agreement.py)
runs one image at a time through numpy, and the SGD variant is not in a library.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from common.errors import UserError
from explain.adapter import Scorer, as_scorer
from explain.attacks import _norm, check_epsilon, direction, example_loss, loss_gradient, project

ATTACKERS = ("sgd", "fgsm", "pgd")


def universal_perturbation(
    model: Any,
    x: np.ndarray,
    y: np.ndarray | None = None,
    *,
    epsilon: float,
    norm: str = "inf",
    input_range: tuple[float, float] | None = None,
    attacker: str = "sgd",
    max_iter: int = 10,
    fooling_target: float = 0.8,
    step_size: float | None = None,
    attacker_eps: float | None = None,
    attacker_steps: int = 5,
    loss_cap: float = 5.0,
    batch_size: int = 64,
    seed: int = 0,
    verbose: bool = False,
) -> np.ndarray:
    """One perturbation of the input's shape with norm <= `epsilon`, fooling `model`.

    Args:
        x: training images (raw units); `y` their labels, or None for the model's own
            predictions (ART's default).
        epsilon, norm: the budget ball ("inf" or "2"), raw input units.
        attacker: "sgd" (batched), or "fgsm" / "pgd" (the paper's per-image loop).
        max_iter: passes over `x`; stops earlier once `fooling_target` of `x` is fooled.
        step_size: sgd's step, default epsilon / 4 (L-inf signs; L2: unit gradients).
        attacker_eps: fgsm/pgd's per-image step (ball), default `epsilon`.
        attacker_steps: pgd's iterations per image.
        loss_cap: sgd's cap on each example's cross-entropy.
        seed: the order of the images (and of the minibatches).
    """
    norm = _norm(norm)
    scorer = as_scorer(model, input_range=input_range)
    lo, hi = scorer.range()
    x = scorer.check_inputs(x)
    if not len(x):
        raise UserError("a universal perturbation needs at least one training input")
    check_epsilon(epsilon, (lo, hi), norm, int(np.prod(x.shape[1:])))
    if attacker not in ATTACKERS:
        raise UserError(f"unknown attacker {attacker!r}; allowed: {', '.join(ATTACKERS)}")
    if max_iter < 1 or attacker_steps < 1 or batch_size < 1:
        raise UserError(
            "max_iter, attacker_steps and batch_size must be >= 1, got "
            f"{max_iter}, {attacker_steps}, {batch_size}"
        )
    if not 0 < fooling_target <= 1:
        raise UserError(f"fooling_target must be in (0, 1], got {fooling_target}")
    labels = scorer.predict(x).argmax(-1) if y is None else np.asarray(y, np.int64).reshape(-1)
    if len(labels) != len(x):
        raise UserError(f"{len(labels)} labels for {len(x)} inputs")
    consts = dict(epsilon=float(epsilon), lo=float(lo), hi=float(hi))
    rng = np.random.default_rng(seed)
    v = tf.Variable(tf.zeros((1, *x.shape[1:]), tf.float32), name="universal")
    bar = keras.utils.Progbar(max_iter, unit_name="pass") if verbose else None
    for _ in range(max_iter):
        order = rng.permutation(len(x))
        if attacker == "sgd":
            alpha = float(step_size if step_size is not None else epsilon / 4)
            step = _sgd_step(scorer, norm, alpha, loss_cap, **consts)
            for i in range(0, len(x), batch_size):
                part = order[i : i + batch_size]
                step(v, tf.constant(x[part]), tf.constant(labels[part]))
        else:
            a_eps = float(attacker_eps if attacker_eps is not None else epsilon)
            visit = _visit(scorer, attacker, norm, a_eps, attacker_steps, **consts)
            for i in order:
                visit(v, tf.constant(x[i : i + 1]), tf.constant(labels[i : i + 1]))
        rate = _fooled(scorer, x, v.numpy()[0], labels, lo, hi)
        if bar is not None:
            bar.add(1, values=[("train fooling rate", rate)])
        if rate >= fooling_target:
            break
    return v.numpy()[0]


def _sgd_step(scorer: Scorer, norm, alpha, cap, *, epsilon, lo, hi):
    """One projected signed-gradient ascent step of `v` on a minibatch (compiled once)."""

    def build():
        def step(v, xb, yb):
            with tf.GradientTape() as tape:
                loss = example_loss(scorer.logits(tf.clip_by_value(xb + v, lo, hi)), yb, False)
                loss = tf.reduce_mean(tf.minimum(loss, cap))
            v.assign(project(v + alpha * direction(tape.gradient(loss, v), norm), epsilon, norm))

        return step

    return scorer.compiled(f"uap-sgd:{norm}:{alpha}:{cap}:{epsilon}:{lo}:{hi}", build)


def _visit(scorer: Scorer, attacker, norm, a_eps, steps, *, epsilon, lo, hi):
    """The paper's inner step for one image: if `x + v` still has its label, attack it
    and keep the attack's offset (projected) when it flips the label (compiled once)."""
    n_steps = 1 if attacker == "fgsm" else steps
    alpha = a_eps if attacker == "fgsm" else 2.5 * a_eps / steps

    def build():
        def visit(v, xi, yi):
            start = tf.clip_by_value(xi + v, lo, hi)
            current = tf.argmax(scorer.logits(start), -1)
            adv = start
            for _ in range(n_steps):
                _, grad = loss_gradient(scorer.logits, adv, yi, False)
                offset = project(adv + alpha * direction(grad, norm) - start, a_eps, norm)
                adv = tf.clip_by_value(start + offset, lo, hi)
            new = tf.argmax(scorer.logits(adv), -1)
            flip = tf.logical_and(current[0] == yi[0], new[0] != current[0])
            v.assign(tf.where(flip, project(adv - xi, epsilon, norm), v))

        return visit

    key = f"uap-{attacker}:{norm}:{a_eps}:{n_steps}:{epsilon}:{lo}:{hi}"
    return scorer.compiled(key, build)


def _fooled(scorer, x, v, labels, lo, hi, batch_size: int = 256) -> float:
    predicted = scorer.predict(np.clip(x + v, lo, hi), batch_size).argmax(-1)
    return float(np.mean(predicted != labels))


def fooling_rate(
    model: Any,
    x: np.ndarray,
    v: np.ndarray,
    *,
    input_range: tuple[float, float] | None = None,
    batch_size: int = 256,
) -> float:
    """Fraction of `x` whose predicted label changes when `v` is added (x + v clipped
    into the input range)."""
    scorer = as_scorer(model, input_range=input_range)
    lo, hi = scorer.range()
    x = scorer.check_inputs(x)
    v = np.asarray(v, np.float32)
    if v.shape != x.shape[1:]:
        raise UserError(f"the perturbation has shape {v.shape}; the inputs are {x.shape[1:]}")
    if not len(x):
        raise UserError("the fooling rate needs at least one input")
    clean = scorer.predict(x, batch_size).argmax(-1)
    return _fooled(scorer, x, v, clean, lo, hi, batch_size)


def perturbation_norm(v: np.ndarray, norm: str) -> float:
    """|v| in the L-inf or L2 norm."""
    flat = np.asarray(v, np.float64).reshape(-1)
    return float(np.abs(flat).max() if _norm(norm) == "inf" else np.linalg.norm(flat))


def random_perturbation(
    shape: tuple[int, ...], epsilon: float, norm: str = "inf", seed: int = 0
) -> np.ndarray:
    """The control: a random perturbation of norm exactly `epsilon` (L-inf: random signs
    times epsilon; L2: a Gaussian rescaled to length epsilon)."""
    norm = _norm(norm)
    if epsilon < 0:
        raise UserError(f"epsilon must be >= 0, got {epsilon:g}")
    rng = np.random.default_rng(seed)
    if norm == "inf":
        return (epsilon * rng.choice([-1.0, 1.0], size=shape)).astype(np.float32)
    g = rng.normal(size=shape)
    return (g * epsilon / (np.linalg.norm(g) or 1.0)).astype(np.float32)
