"""Robustness measured: accuracy under attack, accuracy-vs-epsilon curves, sanity.

`accuracy_under_attack` is the public entry point other packages use (the tuner's
robustness-aware objective): raw inputs, epsilon in raw units, class ids.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from explain.adapter import as_scorer
from explain.attacks import get_attack


def accuracy_under_attack(
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    *,
    attack: str | Callable,
    epsilon: float,
    input_range: tuple[float, float],
    **kw: Any,
) -> float:
    """Accuracy on `attack`-perturbed inputs (epsilon 0: clean accuracy).

    Args:
        attack: "fgsm", "bim", "pgd", "pgd_l2" or an attack function.
        y: class ids; with `targeted=True`, target ids, and the result is the
            fraction of inputs NOT pushed to their target (1 - success rate).
        **kw: passed to the attack (steps, restarts, targeted, seed, ...).
    """
    scorer = as_scorer(model, input_range=input_range)
    x = scorer.check_inputs(x)
    y = np.asarray(y).reshape(-1)
    x_adv = x if epsilon == 0 else adversarial(scorer, x, y, attack, epsilon, **kw)
    predicted = scorer.predict(x_adv).argmax(-1)
    if kw.get("targeted"):
        return float(np.mean(predicted != y))
    return float(np.mean(predicted == y))


def adversarial(
    model: Any, x: np.ndarray, y: np.ndarray, attack: str | Callable, epsilon: float, **kw: Any
) -> np.ndarray:
    """`attack`'s adversarial examples (the scorer's input range is used)."""
    scorer = as_scorer(model)
    fn = get_attack(attack)
    if fn.__name__ == "fgsm":
        kw = {k: v for k, v in kw.items() if k in ("targeted", "batch_size")}
    return fn(scorer, x, y, epsilon=epsilon, input_range=scorer.range(), **kw)


def max_perturbation(x: np.ndarray, x_adv: np.ndarray, norm: str = "inf") -> float:
    """The largest per-example perturbation norm (to check it stays within epsilon)."""
    delta = (np.asarray(x_adv, np.float64) - x).reshape(len(x), -1)
    if str(norm).removeprefix("l") == "2":
        return float(np.linalg.norm(delta, axis=1).max(initial=0.0))
    return float(np.abs(delta).max(initial=0.0))


def robustness_curve(
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    *,
    attacks: Sequence[str],
    epsilons: Sequence[float],
    input_range: tuple[float, float],
    l2_scale: float = 1.0,
    **kw: Any,
) -> list[dict[str, Any]]:
    """One row per (attack, epsilon): accuracy and the largest perturbation seen.

    pgd_l2 runs at `epsilon * l2_scale` (an L2 ball of the L-inf radius is tiny).
    """
    scorer = as_scorer(model, input_range=input_range)
    x = scorer.check_inputs(x)
    y = np.asarray(y).reshape(-1)
    clean = scorer.predict(x).argmax(-1)
    rows = []
    for name in attacks:
        scale = l2_scale if name == "pgd_l2" else 1.0
        for eps in epsilons:
            eps = float(eps) * scale
            x_adv = x if eps == 0 else adversarial(scorer, x, y, name, eps, **kw)
            predicted = scorer.predict(x_adv).argmax(-1)
            norm = "2" if name == "pgd_l2" else "inf"
            hit = predicted != y if kw.get("targeted") else predicted == y
            rows.append(
                {
                    "attack": name,
                    "epsilon": eps,
                    "accuracy": float(np.mean(hit)),
                    "flipped": float(np.mean(predicted != clean)),
                    "max_perturbation": max_perturbation(x, x_adv, norm),
                    "norm": norm,
                }
            )
    return rows


def attack_is_sane(rows: list[dict[str, Any]], tolerance: float = 1e-4) -> dict[str, Any]:
    """Attack sanity checks on a curve: every perturbation within its epsilon, PGD at
    least as strong as FGSM at each epsilon, accuracy at the largest epsilon."""
    within = all(r["max_perturbation"] <= r["epsilon"] * (1 + tolerance) + 1e-5 for r in rows)
    by = {(r["attack"], r["epsilon"]): r["accuracy"] for r in rows}
    pairs = [
        (e, by[("fgsm", e)], by[("pgd", e)]) for (a, e) in by if a == "fgsm" and ("pgd", e) in by
    ]
    top = {
        a: max(r["epsilon"] for r in rows if r["attack"] == a) for a in {r["attack"] for r in rows}
    }
    return {
        "within_epsilon": within,
        "pgd_at_least_fgsm": all(p <= f + 1e-9 for _, f, p in pairs) if pairs else None,
        "accuracy_at_max_epsilon": {
            r["attack"]: r["accuracy"] for r in rows if r["epsilon"] == top[r["attack"]]
        },
    }
