"""Attribution methods by name, with the recipe's settings, and their spatial maps.

`attribute("ig", model, x, cfg=explain_cfg)` runs one method with the `explain:`
section's options; `to_map` turns any method's output into one value per pixel (or
per feature) for figures and the quality metrics.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from common.errors import UserError
from explain.adapter import as_scorer
from explain.config import METHODS, ExplainConfig, canonical_method
from explain.grad_cam import grad_cam
from explain.gradients import gradient_x_input, smoothgrad, vanilla_gradients
from explain.integrated_gradients import integrated_gradients
from explain.lime_explain import lime_image, lime_tabular
from explain.occlusion import occlusion

# Outputs shaped like the input whose sign is not evidence (ranked by magnitude).
MAGNITUDE = ("gradients", "smoothgrad")


def attribute(
    method: str,
    model: Any,
    x: np.ndarray,
    *,
    target: Any = None,
    cfg: ExplainConfig | None = None,
    seed: int = 0,
    verbose: bool = False,
    training_data: np.ndarray | None = None,
    feature_names: list[str] | None = None,
) -> np.ndarray:
    """Run `method` on `x` with `cfg`'s options (defaults when None).

    Raises:
        UserError: unknown method, or one that does not apply (Grad-CAM on an MLP,
            LIME on tabular data without `training_data`).
    """
    try:
        method = canonical_method(method)
    except ValueError as err:
        raise UserError(str(err)) from None
    cfg = cfg or ExplainConfig()
    scorer = as_scorer(model)
    if method == "gradients":
        return vanilla_gradients(scorer, x, target=target)
    if method == "gradxinput":
        return gradient_x_input(scorer, x, target=target)
    if method == "smoothgrad":
        sg = cfg.smoothgrad
        return smoothgrad(scorer, x, target=target, samples=sg.samples, noise=sg.noise, seed=seed)
    if method == "ig":
        return integrated_gradients(
            scorer, x, target=target, steps=cfg.ig.steps, baseline=cfg.ig.baseline, seed=seed
        )
    if method == "gradcam":
        return grad_cam(scorer, x, target=target, layer=cfg.layer)
    if method == "occlusion":
        oc = cfg.occlusion
        return occlusion(scorer, x, target=target, patch=oc.patch, stride=oc.stride, fill=oc.fill)
    return _lime(scorer, x, target, cfg, seed, verbose, training_data, feature_names)


def _lime(scorer, x, target, cfg, seed, verbose, training_data, feature_names) -> np.ndarray:
    lc = cfg.lime
    if scorer.is_image:
        return lime_image(
            scorer,
            x,
            target=target,
            num_samples=lc.num_samples,
            segmentation=lc.segmentation,
            segmentation_params=lc.segmentation_params,
            hide_color=lc.hide_color,
            seed=seed,
            batch_size=lc.batch_size,
            verbose=verbose,
        )
    if len(scorer.input_shape) == 1:
        if training_data is None:
            raise UserError("lime on tabular inputs needs the training rows (training_data)")

        return lime_tabular(
            scorer,
            x,
            training_data=training_data,
            target=target,
            feature_names=feature_names,
            num_samples=lc.num_samples,
            num_features=lc.num_features,
            seed=seed,
            verbose=verbose,
        )
    raise UserError(
        f"lime applies to images, feature rows and text; {scorer.name} takes {scorer.input_shape}"
    )


def to_map(method: str, attributions: np.ndarray, input_shape: tuple[int, ...]) -> np.ndarray:
    """One value per pixel (images) or per position (1-D inputs).

    Gradients and SmoothGrad: max |.| over channels (Simonyan et al.); other
    input-shaped outputs: sum over channels (signed evidence); maps pass through.
    """
    a = np.asarray(attributions, np.float32)
    if a.shape[1:] != tuple(input_shape):
        return a  # already a map (Grad-CAM, occlusion, LIME on images)
    if len(input_shape) == 3 or len(input_shape) == 2:  # (H, W, C) or (L, C)
        return np.abs(a).max(-1) if method in MAGNITUDE else a.sum(-1)
    return np.abs(a) if method in MAGNITUDE else a


def applicable(method: str, scorer) -> bool:
    """Whether `method` applies to the scorer's model (Grad-CAM needs conv layers)."""
    if method == "gradcam":
        return scorer.is_image and bool(scorer.conv_layers())
    if method == "lime":
        return len(scorer.input_shape) in (1, 3)
    return method in METHODS
