"""The explain stage's work, shared by `dlzoo run` (a recipe's `explain:`) and
`dlzoo explain`: a figure grid, quality metrics, LIME stability, a report section.
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from common.errors import UserError
from common.report import image, table
from explain import plot, quality
from explain.adapter import Scorer, as_scorer
from explain.config import ExplainConfig
from explain.lime_explain import stability, tabular_stability
from explain.methods import applicable, attribute, to_map

DELETION, INSERTION = "deletion AUC (lower better)", "insertion AUC (higher better)"


@dataclasses.dataclass
class Inputs:
    """What gets explained: raw-range inputs, optional labels and object masks."""

    x: np.ndarray
    y: np.ndarray | None = None
    masks: np.ndarray | None = None
    names: list[str] | None = None  # per-input names (files) for captions
    training_data: np.ndarray | None = None  # LIME tabular: rows to discretize on
    feature_names: list[str] | None = None


@dataclasses.dataclass
class Context:
    scorer: Scorer
    cfg: ExplainConfig
    data: Inputs
    run_dir: Path
    seed: int
    verbose: bool = False

    def attribute(self, method: str, x: np.ndarray, targets: np.ndarray) -> np.ndarray:
        out = attribute(
            method,
            self.scorer,
            x,
            target=targets,
            cfg=self.cfg,
            seed=self.seed,
            verbose=self.verbose,
            training_data=self.data.training_data,
            feature_names=self.data.feature_names,
        )
        return to_map(method, out, x.shape[1:])


def chosen_methods(scorer: Scorer, cfg: ExplainConfig) -> tuple[list[str], list[str]]:
    """(methods to run, skipped). Methods the recipe named explicitly that do not
    apply raise a UserError; defaults that do not apply are skipped with a note."""
    run, skipped = [], []
    for method in cfg.methods:
        if applicable(method, scorer):
            run.append(method)
        elif "methods" in cfg.model_fields_set:
            if method == "gradcam":
                scorer.resolve_layer(cfg.layer)  # raises the Grad-CAM-specific message
            raise UserError(
                f"method {method!r} does not apply to {scorer.name} (inputs {scorer.input_shape})"
            )
        else:
            skipped.append(method)
    return run, skipped


def caption(scorer: Scorer, probs: np.ndarray, label: Any = None, name: str | None = None) -> str:
    """`name\\n<class> (<confidence>)\\ntrue <class>` for a figure panel."""
    k = int(probs.argmax())
    names = scorer.class_names
    text = f"{names[k] if names else k} ({probs[k]:.1%})"
    if label is not None:
        text += f"\ntrue {names[int(label)] if names else int(label)}"
    return f"{name}\n{text}" if name else text


def explain_inputs(
    model: Any,
    data: Inputs,
    cfg: ExplainConfig,
    run_dir: Path,
    *,
    seed: int = 0,
    verbose: bool = False,
    input_range: tuple[float, float] | None = None,
    class_names: tuple[str, ...] = (),
) -> tuple[dict[str, Any], str]:
    """(metrics, markdown) for `data`; figures go under `run_dir/plots`."""
    scorer = as_scorer(model, input_range=input_range, class_names=class_names)
    data.x = scorer.check_inputs(data.x)
    ctx = Context(scorer, cfg, data, Path(run_dir), seed, verbose)
    methods, skipped = chosen_methods(scorer, cfg)
    targets = _targets(scorer, data, cfg)
    figure = _figure(ctx, methods, targets)
    target_kind = (
        "true label" if cfg.target == "label" and data.y is not None else "predicted class"
    )
    note = f" (skipped, not applicable: {', '.join(skipped)})" if skipped else ""
    metrics: dict[str, Any] = {"explain_methods": ",".join(methods)}
    lines = [
        "## Explanations",
        f"Methods: {', '.join(methods)}{note}; each explains the {target_kind}.\n",
        image("explanations", figure, ctx.run_dir),
    ]
    if cfg.quality is not None:
        lines.append(
            f"### Quality of the explanations ({min(cfg.quality.num_images, len(data.x))} inputs)"
        )
        lines += _quality(ctx, methods, targets, metrics)
    if "lime" in methods and cfg.lime.stability_seeds > 1:
        lines += _lime_stability(ctx, targets[: cfg.num_images], metrics)
    return metrics, "\n".join(lines) + "\n"


def _targets(scorer: Scorer, data: Inputs, cfg: ExplainConfig) -> np.ndarray:
    if cfg.target == "label" and data.y is not None:
        return scorer.targets(data.x, np.asarray(data.y, np.int64))
    return scorer.targets(data.x)


def _figure(ctx: Context, methods: list[str], targets: np.ndarray) -> Path:
    shown = ctx.data.x[: ctx.cfg.num_images]
    maps = {m: ctx.attribute(m, shown, targets[: len(shown)]) for m in methods}
    probs = ctx.scorer.probabilities(shown)
    labels = ctx.data.y if ctx.data.y is not None else [None] * len(shown)
    names = ctx.data.names or [None] * len(shown)
    captions = [caption(ctx.scorer, p, labels[i], names[i]) for i, p in enumerate(probs)]
    path = ctx.run_dir / "plots" / "explanations.png"
    if len(ctx.scorer.input_shape) == 1:  # a table row: bars per feature
        names = ctx.data.feature_names or [f"x{j}" for j in range(shown.shape[1])]
        flat = [c.replace("\n", ", ") for c in captions]
        return plot.feature_grid(maps, names, flat, path)
    return plot.explanation_grid(shown, maps, captions, path, ctx.scorer.range())


def _quality(ctx: Context, methods: list[str], targets: np.ndarray, metrics: dict) -> list[str]:
    q = ctx.cfg.quality
    n = min(q.num_images, len(ctx.data.x))
    x, t = ctx.data.x[:n], targets[:n]
    lines = _completeness(ctx, x, t, metrics) if q.completeness and "ig" in methods else []
    maps = {m: ctx.attribute(m, x, t) for m in methods}
    rows = [{"method": m} for m in methods]
    if q.sanity and ctx.scorer.keras_model is not None:
        lines += _sanity(ctx, x, t, [m for m in methods if m != "lime"], rows, metrics)
    if q.deletion:
        lines += _deletion(ctx, x, t, maps, rows, metrics)
    if ctx.data.masks is not None and q.pointing is not False and ctx.scorer.is_image:
        lines += _pointing(ctx, maps, np.asarray(ctx.data.masks)[:n], rows, metrics)
    columns = list(dict.fromkeys(key for row in rows for key in row))
    return [*lines, "", table(rows, columns)]


def _completeness(ctx: Context, x, t, metrics: dict) -> list[str]:
    ig = ctx.cfg.ig
    c = quality.completeness(ctx.scorer, x, target=t, baseline=ig.baseline, steps=ig.steps)
    metrics["explain_ig_completeness_error_max"] = c["relative_error_max"]
    metrics["explain_ig_completeness_error_median"] = c["relative_error_median"]
    return [
        f"- **Integrated Gradients completeness** ({ig.steps} steps, {ig.baseline} baseline): "
        "|sum of attributions - (f(x) - f(baseline))| / |f(x) - f(baseline)| is "
        f"{c['relative_error_median']:.2e} (median) and {c['relative_error_max']:.2e} (max); "
        "the IG paper asks for < 5%, dlzoo tests < 1%."
    ]


def _sanity(ctx: Context, x, t, methods, rows, metrics: dict) -> list[str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant maps of a random model
        rho = quality.sanity_check(ctx.scorer, x, methods=methods, target=t, seed=ctx.seed)
    for row in rows:
        if row["method"] in rho:
            row["sanity: rank corr. with random weights"] = rho[row["method"]]
            metrics[f"explain_sanity_rho_{row['method']}"] = rho[row["method"]]
    return [
        "- **Sanity check** (Adebayo et al. 2018): Spearman correlation of |map| between the "
        "trained model and a copy with re-drawn random weights; near 0 means the map depends on "
        "what the model learned. Methods that multiply by the input (gradxinput, IG) stay "
        "correlated with the input itself, as the paper found."
    ]


def _deletion(ctx: Context, x, t, maps, rows, metrics: dict) -> list[str]:
    curves = {}
    for row in rows:
        m = row["method"]
        d = quality.deletion_insertion(
            ctx.scorer, x, maps[m], target=t, steps=ctx.cfg.quality.steps, seed=ctx.seed
        )
        curves[m] = d
        row[DELETION], row[INSERTION] = d["deletion_auc"], d["insertion_auc"]
        metrics[f"explain_deletion_auc_{m}"] = d["deletion_auc"]
        metrics[f"explain_insertion_auc_{m}"] = d["insertion_auc"]
    if not curves:
        return []
    first = next(iter(curves.values()))
    rows.append(
        {
            "method": "random order",
            DELETION: first["deletion_random_auc"],
            INSERTION: first["insertion_random_auc"],
        }
    )
    metrics["explain_deletion_auc_random"] = first["deletion_random_auc"]
    metrics["explain_insertion_auc_random"] = first["insertion_random_auc"]
    path = plot.deletion_curves(curves, ctx.run_dir / "plots" / "deletion_insertion.png")
    return [
        "- **Deletion / insertion** (Petsiuk et al. 2018): pixels removed (set to the range's "
        "low end) or inserted (into a blurred copy) in attribution order; the target "
        "probability's area under the curve, against a random order.",
        image("deletion and insertion curves", path, ctx.run_dir),
    ]


def _pointing(ctx: Context, maps, masks, rows, metrics: dict) -> list[str]:
    for row in rows:
        m = row["method"]
        if m in maps:
            signed = m not in ("gradcam", "occlusion")
            p = quality.pointing_game(np.abs(maps[m]) if signed else maps[m], masks)
            row["pointing game hit rate"] = p["hit_rate"]
            metrics[f"explain_pointing_{m}"] = p["hit_rate"]
    noise = quality.pointing_game(np.random.default_rng(ctx.seed).random(masks.shape), masks)
    metrics["explain_pointing_random_map"] = noise["hit_rate"]
    return [
        f"- **Pointing game** on the object masks: is each map's peak on the object? Chance "
        f"(mean mask area) {noise['chance']:.3f}, a random map {noise['hit_rate']:.3f}, the "
        f"image centre {noise['centre_baseline']:.3f}."
    ]


def _lime_stability(ctx: Context, targets: np.ndarray, metrics: dict) -> list[str]:
    lc = ctx.cfg.lime
    seeds = [ctx.seed + i for i in range(lc.stability_seeds)]
    if not ctx.scorer.is_image:
        return _tabular_stability(ctx, targets, seeds, metrics)
    s = stability(
        ctx.scorer,
        ctx.data.x[: len(targets)],
        seeds=seeds,
        k=lc.num_features,
        target=targets,
        num_samples=lc.num_samples,
        segmentation=lc.segmentation,
        segmentation_params=lc.segmentation_params,
        hide_color=lc.hide_color,
        batch_size=lc.batch_size,
    )
    metrics["explain_lime_top_jaccard"] = s["mean_jaccard"]
    metrics["explain_lime_same_seed_identical"] = s["same_seed_identical"]
    per_image = ", ".join(f"{v:.2f}" for v in s["per_image_jaccard"])
    return [
        f"- **LIME stability** ({lc.num_samples} samples, {lc.segmentation} superpixels): the "
        f"top-{s['top_k']} superpixels across seeds {s['seeds']} overlap by "
        f"{s['mean_jaccard']:.3f} (mean pairwise Jaccard, 1 = identical; per image {per_image}). "
        f"Same seed, same explanation: {'yes' if s['same_seed_identical'] else 'NO'}."
    ]


def _tabular_stability(ctx: Context, targets: np.ndarray, seeds: list[int], metrics) -> list[str]:
    lc = ctx.cfg.lime
    s = tabular_stability(
        ctx.scorer,
        ctx.data.x[: len(targets)],
        seeds=seeds,
        k=lc.num_features,
        target=targets,
        training_data=ctx.data.training_data,
        num_samples=lc.num_samples,
    )
    metrics["explain_lime_top_jaccard"] = s["mean_jaccard"]
    metrics["explain_lime_same_seed_identical"] = s["same_seed_identical"]
    return [
        f"- **LIME stability** ({lc.num_samples} samples): the top-{s['top_k']} features across "
        f"seeds {s['seeds']} overlap by {s['mean_jaccard']:.3f} (mean pairwise Jaccard). "
        f"Same seed, same explanation: {'yes' if s['same_seed_identical'] else 'NO'}."
    ]
