"""The attack stage's work, shared by `dlzoo run` (a recipe's `attack:`) and
`dlzoo attack`: accuracy-vs-epsilon curves, attack sanity, the lecture's figure,
an adversarial patch, a universal perturbation (and its transfer to a second
architecture), and a clean-vs-robust comparison.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from common.io import atomic_write
from common.report import image, table
from explain import plot
from explain.adapter import Scorer, as_scorer
from explain.attacks import check_epsilon
from explain.config import AttackConfig
from explain.explain_report import caption
from explain.patch import apply_patch, patch_success, random_places, train_patch
from explain.robustness import adversarial, attack_is_sane, robustness_curve
from explain.universal import (
    fooling_rate,
    perturbation_norm,
    random_perturbation,
    universal_perturbation,
)

DEFAULT_FRACTIONS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3)


def epsilons_for(cfg: AttackConfig, input_range: tuple[float, float]) -> list[float]:
    """The configured epsilons (checked against the range), or fractions of the range."""
    lo, hi = input_range
    values = cfg.epsilons or [f * (hi - lo) for f in DEFAULT_FRACTIONS]
    return [check_epsilon(e, input_range) for e in values]


def attack_kwargs(cfg: AttackConfig, seed: int, verbose: bool) -> dict[str, Any]:
    return {
        "steps": cfg.steps,
        "step_size": cfg.step_size,
        "restarts": cfg.restarts,
        "random_start": cfg.random_start,
        "targeted": cfg.targeted,
        "seed": seed,
        "batch_size": cfg.batch_size,
        "verbose": verbose,
    }


def attack_labels(scorer: Scorer, y: np.ndarray, cfg: AttackConfig) -> np.ndarray:
    """Labels, or the targets (label + 1 mod classes) for a targeted attack."""
    y = np.asarray(y, np.int64).reshape(-1)
    return (y + 1) % scorer.num_classes if cfg.targeted else y


def attack_inputs(
    models: dict[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    cfg: AttackConfig,
    run_dir: Path,
    *,
    input_range: tuple[float, float],
    class_names: tuple[str, ...] = (),
    seed: int = 0,
    verbose: bool = False,
    patch_data: tuple[np.ndarray, np.ndarray] | None = None,
    universal_data: tuple[np.ndarray, np.ndarray] | None = None,
    transfer: tuple[str, Any] | None = None,
) -> tuple[dict[str, Any], str]:
    """(metrics, markdown) for the first model of `models` (and the others compared).

    Args:
        models: label -> model; the first is the run's model, others are compared.
        patch_data: training (x, y) to optimize a patch on, when `cfg.patch` is set.
        universal_data: training (x, y) for the universal perturbation (`cfg.universal`).
        transfer: (label, model) of a second architecture the perturbation is tried on.
    """
    scorers = {
        k: as_scorer(m, input_range=input_range, class_names=class_names) for k, m in models.items()
    }
    main = next(iter(scorers.values()))
    x = main.check_inputs(x)[: cfg.num_examples]
    labels = attack_labels(main, np.asarray(y)[: len(x)], cfg)
    epsilons = epsilons_for(cfg, main.range())
    kw = attack_kwargs(cfg, seed, verbose)
    curves = {
        name: robustness_curve(
            s,
            x,
            labels,
            attacks=cfg.attacks,
            epsilons=epsilons,
            input_range=main.range(),
            l2_scale=cfg.l2_scale,
            **kw,
        )
        for name, s in scorers.items()
    }
    sane = attack_is_sane(curves[next(iter(curves))])
    metrics = _curve_metrics(curves[next(iter(curves))], sane)
    eps = cfg.figure_epsilon if cfg.figure_epsilon is not None else epsilons[len(epsilons) // 2]
    figure = _figure(main, x, labels, cfg, eps, run_dir, kw)
    lines = _curve_lines(main, curves, sane, cfg, len(x), run_dir)
    lines += [
        f"\nThe lecture's figure (Goodfellow et al. 2015), FGSM at epsilon {eps:g}:\n",
        image("adversarial examples", figure, run_dir),
    ]
    if len(scorers) > 1:
        lines += _comparison(curves, eps, metrics)
    if cfg.patch is not None and patch_data is not None and main.is_image:
        y_true = np.asarray(y)[: len(x)]
        lines += _patch(main, patch_data, x, y_true, cfg, run_dir, seed, verbose, metrics)
    if cfg.universal is not None and universal_data is not None:
        scored = (main, x, input_range, class_names)
        lines += _universal(scored, universal_data, transfer, cfg, run_dir, seed, verbose, metrics)
    return metrics, "\n".join(lines) + "\n"


def _curve_lines(main: Scorer, curves, sane, cfg: AttackConfig, n: int, run_dir: Path) -> list:
    lo, hi = main.range()
    kind = "targeted (towards label + 1)" if cfg.targeted else "untargeted"
    path = plot.robustness_curves(curves, run_dir / "plots" / "robustness.png")
    return [
        "## Adversarial robustness",
        f"{kind.capitalize()} attacks on {n} test inputs, epsilon in raw input units "
        f"(range {lo:g}..{hi:g}); PGD/BIM: {cfg.steps} steps, {cfg.restarts} restart(s); "
        f"pgd_l2 at epsilon x {cfg.l2_scale:g}. "
        + ("Accuracy = fraction NOT pushed to the target." if cfg.targeted else ""),
        "",
        table(_pivot(curves[next(iter(curves))])),
        image("accuracy vs epsilon", path, run_dir),
        *_sanity_lines(sane),
    ]


def _pivot(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One table row per epsilon, one column per attack."""
    out: dict[float, dict[str, Any]] = {}
    for r in rows:
        key = r["epsilon"] if r["attack"] != "pgd_l2" else None
        if key is None:
            continue
        out.setdefault(key, {"epsilon": key})[f"{r['attack']} accuracy"] = r["accuracy"]
    l2 = [r for r in rows if r["attack"] == "pgd_l2"]
    for r, key in zip(l2, sorted(out)):
        out[key]["pgd_l2 (eps x scale)"] = f"{r['accuracy']:.4g} @ {r['epsilon']:.3g}"
    return [out[k] for k in sorted(out)]


def _curve_metrics(rows, sane) -> dict[str, Any]:
    metrics: dict[str, Any] = {
        f"attack_{r['attack']}_acc@{r['epsilon']:g}": r["accuracy"] for r in rows
    }
    metrics["attack_within_epsilon"] = sane["within_epsilon"]
    if sane["pgd_at_least_fgsm"] is not None:
        metrics["attack_pgd_at_least_fgsm"] = sane["pgd_at_least_fgsm"]
    return metrics


def _sanity_lines(sane: dict[str, Any]) -> list[str]:
    top = ", ".join(f"{a} {v:.3f}" for a, v in sane["accuracy_at_max_epsilon"].items())
    lines = [
        "- Every adversarial example is within epsilon of its original: "
        f"**{'yes' if sane['within_epsilon'] else 'NO'}**.",
        f"- Accuracy at each attack's largest epsilon: {top}.",
    ]
    if sane["pgd_at_least_fgsm"] is not None:
        verdict = "yes" if sane["pgd_at_least_fgsm"] else "NO"
        lines.insert(1, f"- PGD at least as strong as FGSM at every epsilon: **{verdict}**.")
    return lines


def _figure(scorer: Scorer, x, labels, cfg: AttackConfig, eps: float, run_dir: Path, kw) -> Path:
    n = min(cfg.figure_examples, len(x))
    xs, ys = x[:n], labels[:n]
    x_adv = xs if eps == 0 else adversarial(scorer, xs, ys, "fgsm", eps, **kw)
    before = [caption(scorer, p) for p in scorer.probabilities(xs)]
    after = [caption(scorer, p) for p in scorer.probabilities(x_adv)]
    path = run_dir / "plots" / "adversarial_examples.png"
    return plot.attack_figure(xs, x_adv, before, after, path, scorer.range())


def _comparison(curves: dict[str, list[dict]], eps: float, metrics: dict) -> list[str]:
    """Clean vs attacked accuracy per model at `eps`, and how much error fell."""
    table_rows, errors = [], {}
    for name, rows in curves.items():
        row: dict[str, Any] = {"model": name}
        for r in rows:
            if r["epsilon"] == 0 and r["attack"] == "fgsm":
                row["clean accuracy"] = r["accuracy"]
            if np.isclose(r["epsilon"], eps) and r["attack"] != "pgd_l2":
                row[f"{r['attack']} accuracy @ {eps:g}"] = r["accuracy"]
                errors[(name, r["attack"])] = 1 - r["accuracy"]
                key = name.replace(" ", "_")  # "adversarially trained": metric keys have no spaces
                metrics[f"compare_{key}_{r['attack']}_error@{eps:g}"] = 1 - r["accuracy"]
        table_rows.append(row)
    names = list(curves)
    lines = [f"\n### Clean vs robust model (epsilon {eps:g})\n", table(table_rows)]
    for attack in sorted({a for _, a in errors}):
        first, other = errors.get((names[0], attack)), errors.get((names[1], attack))
        if first is not None and other is not None and first > 0:
            lines.append(
                f"- {attack}: error under attack {other:.1%} ({names[1]}) -> {first:.1%} "
                f"({names[0]}), {other / first:.1f}x lower."
            )
            metrics[f"compare_{attack}_error_ratio"] = other / first
    lines.append("- Goodfellow et al. 2015 report 89.4% -> 17.9% error under FGSM on MNIST.")
    return lines


def _patch(scorer, patch_data, x, y, cfg, run_dir, seed, verbose, metrics) -> list[str]:
    pc = cfg.patch
    px, _ = patch_data
    patch = train_patch(
        scorer,
        px[: pc.train_examples],
        target=pc.target,
        size=pc.size,
        epochs=pc.epochs,
        learning_rate=pc.learning_rate,
        batch_size=pc.batch_size,
        seed=seed,
        verbose=verbose,
    )
    result = patch_success(
        scorer, x[: pc.test_examples], y[: pc.test_examples], patch, target=pc.target, seed=seed
    )
    metrics.update({f"patch_{k}": v for k, v in result.items()})
    rng = np.random.default_rng(seed)
    shown = x[:6]
    rows, cols = random_places(rng, len(shown), scorer.input_shape, patch.shape[0])
    patched = apply_patch(shown, patch, rows, cols)
    captions = [caption(scorer, p) for p in scorer.probabilities(patched)]
    path = plot.patch_figure(
        patch, patched, captions, run_dir / "plots" / "patch.png", scorer.range()
    )
    target = scorer.class_names[pc.target] if scorer.class_names else pc.target
    r = result
    return [
        f"\n### Adversarial patch (Brown et al. 2017), target class {target}\n",
        f"A {patch.shape[0]}x{patch.shape[1]} patch ({r['patch_fraction_of_image']:.1%} of the "
        f"image) optimized on {min(len(px), pc.train_examples)} training images at random "
        f"places sends **{r['success_rate']:.1%}** of {r['n']} held-out images (not of the "
        "target class, 4 random places each) to the target; a random-noise patch of the "
        f"same size: {r['control_success_rate']:.1%}; without a patch: "
        f"{r['clean_target_rate']:.1%}.\n",
        image("adversarial patch", path, run_dir),
    ]


def _universal(scored, train, transfer, cfg, run_dir, seed, verbose, metrics) -> list[str]:
    """Moosavi-Dezfooli et al. 2017: one perturbation from training images, its fooling
    rate on the held-out inputs vs random noise of the same norm, and on `transfer`."""
    scorer, x, input_range, class_names = scored
    uc = cfg.universal
    px = train[0][: uc.train_examples]
    v = universal_perturbation(
        scorer,
        px,
        None,
        epsilon=uc.epsilon,
        norm=uc.norm,
        attacker=uc.attacker,
        max_iter=uc.max_iter,
        fooling_target=uc.fooling_target,
        step_size=uc.step_size,
        attacker_eps=uc.attacker_eps,
        seed=seed,
        verbose=verbose,
    )
    control = random_perturbation(v.shape, uc.epsilon, uc.norm, seed)
    result = {
        "fooling_rate": fooling_rate(scorer, x, v),
        "random_fooling_rate": fooling_rate(scorer, x, control),
        "train_fooling_rate": fooling_rate(scorer, px, v),
        "norm": perturbation_norm(v, uc.norm),
        "epsilon": uc.epsilon,
    }
    lines = [
        "\n### Universal adversarial perturbation (Moosavi-Dezfooli et al. 2017)\n",
        f"One perturbation of L{uc.norm} norm {result['norm']:.3g} (budget {uc.epsilon:g}, "
        f"raw units; attacker {uc.attacker}) computed on {len(px)} training images changes "
        f"the prediction of **{result['fooling_rate']:.1%}** of {len(x)} held-out test inputs "
        f"({result['train_fooling_rate']:.1%} of its training images); random noise of the "
        f"same norm: {result['random_fooling_rate']:.1%}.",
    ]
    if transfer is not None:
        name, model = transfer
        other = as_scorer(model, input_range=input_range, class_names=class_names)
        result["transfer_fooling_rate"] = fooling_rate(other, x, v)
        result["transfer_random_fooling_rate"] = fooling_rate(other, x, control)
        lines.append(
            f"- Transferred unchanged to a second architecture ({name}, trained with the "
            f"same data and settings): **{result['transfer_fooling_rate']:.1%}** fooled "
            f"(random noise of the same norm: {result['transfer_random_fooling_rate']:.1%})."
        )
    metrics.update({f"universal_{k}": v_ for k, v_ in result.items()})
    atomic_write(run_dir / "universal_perturbation.npy", lambda tmp: np.save(tmp, v))
    shown = x[: min(6, len(x))]
    lo, hi = scorer.range()
    perturbed = np.clip(shown + v, lo, hi)
    path = plot.universal_figure(
        v,
        shown,
        perturbed,
        [caption(scorer, p) for p in scorer.probabilities(shown)],
        [caption(scorer, p) for p in scorer.probabilities(perturbed)],
        run_dir / "plots" / "universal_perturbation.png",
        (lo, hi),
    )
    return [*lines, "", image("universal perturbation", path, run_dir)]
