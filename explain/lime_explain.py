"""LIME (Ribeiro, Singh, Guestrin 2016, "Why should I trust you?", arXiv:1602.04938)
through the `lime` package: images (superpixels), tables, text. The only module
importing lime.

Repeatability: lime's explainers draw every sample from one `RandomState` kept on
the explainer, and `explain_instance(random_seed=...)` only seeds the default
segmentation (lime #477, #231), so one explainer gives a different answer each call.
We build a fresh explainer per input from `seed` and seed the segmentation too: the
same seed gives the same explanation. Grey-scale images (lime #661): lime's image
explainer and segmenters want RGB, so a (H, W, 1) image goes in as (H, W) (lime makes
it RGB) and the classifier function turns the RGB batches back into one channel.
Images are handed to lime scaled to [0, 1] (what skimage's segmenters expect) and
mapped back to the model's raw range before every prediction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from unittest import mock

import keras
import numpy as np
import tensorflow as tf

from common.errors import UserError
from explain.adapter import as_scorer

SEGMENTATIONS = ("quickshift", "slic", "felzenszwalb")
# Defaults sized for the small images dlzoo works with (8..64 px), not lime's 224 px.
SEGMENTATION_DEFAULTS = {
    "quickshift": {"kernel_size": 2, "max_dist": 6, "ratio": 0.5},
    "slic": {"n_segments": 40, "compactness": 10, "start_label": 0},
    "felzenszwalb": {"scale": 50, "sigma": 0.5, "min_size": 4},
}


def _segmenter(kind: str, params: dict[str, Any], seed: int):
    # heavy: lime (and skimage) only when LIME runs
    from lime.wrappers.scikit_image import SegmentationAlgorithm

    if kind not in SEGMENTATIONS:
        raise UserError(f"unknown segmentation {kind!r}; allowed: {', '.join(SEGMENTATIONS)}")
    options = {**SEGMENTATION_DEFAULTS[kind], **params}
    if kind == "quickshift":
        options["random_seed"] = seed
    try:
        return SegmentationAlgorithm(kind, **options)
    except (TypeError, ValueError) as err:
        raise UserError(f"lime segmentation {kind}: bad parameter: {err}") from None


def lime_image(
    model: Any,
    inputs: np.ndarray,
    *,
    target: Any = None,
    num_samples: int = 1000,
    segmentation: str = "slic",
    segmentation_params: dict[str, Any] | None = None,
    hide_color: float | None = None,
    seed: int = 0,
    batch_size: int = 200,
    verbose: bool = False,
    return_details: bool = False,
    **kw: Any,
) -> np.ndarray | tuple[np.ndarray, list[dict[str, Any]]]:
    """Per-pixel LIME weights (each pixel gets its superpixel's weight), (B, H, W).

    Args:
        hide_color: value of hidden superpixels in raw units; None = their mean.
        return_details: also return, per image, the segments and the
            (superpixel, weight) list sorted by weight.
    """
    scorer = as_scorer(model, **kw)
    x = scorer.check_inputs(inputs)
    if not scorer.is_image:
        raise UserError(f"lime image needs images; {scorer.name} takes {scorer.input_shape}")
    lo, hi = scorer.range()
    targets = scorer.targets(x, target)
    grey = x.shape[-1] == 1

    def classify(batch: np.ndarray) -> np.ndarray:
        raw = lo + np.asarray(batch, np.float32) * (hi - lo)
        return scorer.probabilities(raw[..., :1] if grey else raw, batch_size)

    options = {
        "hide_color": None if hide_color is None else (hide_color - lo) / (hi - lo),
        "num_samples": num_samples,
        "batch_size": batch_size,
        "segmentation_fn": _segmenter(segmentation, segmentation_params or {}, seed),
        "random_seed": seed,
    }
    bar = keras.utils.Progbar(len(x), unit_name="image") if verbose else None
    maps, details = np.zeros(x.shape[:3], np.float32), []
    for i, (image, cls) in enumerate(zip(x, targets)):
        unit = (image - lo) / (hi - lo)
        exp = _explain_image(unit[..., 0] if grey else unit, classify, int(cls), seed, options)
        weights = sorted(exp.local_exp[int(cls)], key=lambda kv: -kv[1])
        for segment, weight in weights:
            maps[i][exp.segments == segment] = weight
        details.append({"segments": exp.segments, "weights": weights, "score": exp.score})
        if bar is not None:
            bar.add(1)
    return (maps, details) if return_details else maps


def _explain_image(image: np.ndarray, classify, label: int, seed: int, options: dict):
    """One image with a fresh, seeded explainer (so the same seed repeats)."""
    # heavy: lime (and skimage) only when LIME runs
    from lime import lime_image as li

    explainer = li.LimeImageExplainer(random_state=seed)
    # lime 0.2 wraps its sampling loop in an unconditional tqdm bar per image; we show
    # one Keras progress bar over the images instead.
    with mock.patch.object(li, "tqdm", lambda rows: rows):
        return explainer.explain_instance(
            image, classify, labels=(label,), top_labels=None, **options
        )


def lime_tabular(
    model: Any,
    inputs: np.ndarray,
    *,
    training_data: np.ndarray,
    target: Any = None,
    feature_names: Sequence[str] | None = None,
    num_samples: int = 2000,
    num_features: int = 5,
    seed: int = 0,
    verbose: bool = False,
    return_details: bool = False,
    **kw: Any,
) -> np.ndarray | tuple[np.ndarray, list[list[tuple[str, float]]]]:
    """Per-feature LIME weights (B, F) on rows of raw features.

    Features are discretized into quartiles of `training_data` (lime's default), so
    a weight says how much "feature in this row's quartile" pushes the target class.
    """
    # heavy: lime (and skimage) only when LIME runs
    from lime import lime_tabular as lt

    scorer = as_scorer(model, **kw)
    x = scorer.check_inputs(inputs)
    if x.ndim != 2:
        raise UserError(f"lime tabular needs rows of features; got inputs of shape {x.shape}")
    names = list(feature_names or [f"x{j}" for j in range(x.shape[1])])
    targets = scorer.targets(x, target)
    out = np.zeros(x.shape, np.float32)
    readable = []
    bar = keras.utils.Progbar(len(x), unit_name="row") if verbose else None
    for i, (row, cls) in enumerate(zip(x, targets)):
        explainer = lt.LimeTabularExplainer(
            np.asarray(training_data, np.float32),
            feature_names=names,
            class_names=list(scorer.class_names) or None,
            discretize_continuous=True,
            random_state=seed,
        )
        exp = explainer.explain_instance(
            row,
            lambda rows: scorer.probabilities(np.asarray(rows, np.float32)),
            labels=(int(cls),),
            num_features=min(num_features, x.shape[1]),
            num_samples=num_samples,
        )
        for j, weight in exp.as_map()[int(cls)]:
            out[i, j] = weight
        readable.append(exp.as_list(label=int(cls)))
        if bar is not None:
            bar.add(1)
    return (out, readable) if return_details else out


def text_classifier(model: Any) -> Callable[[list[str]], np.ndarray]:
    """Probabilities for a list of strings, from a Keras model taking raw strings
    (logits or probabilities out) or any callable returning either."""

    def probabilities(texts: list[str]) -> np.ndarray:
        out = np.asarray(model(tf.constant(list(texts))), np.float64)
        if out.ndim == 1:  # one sigmoid/logit unit: two classes
            out = np.stack([-out, out], axis=1) if out.min() < 0 or out.max() > 1 else out
        is_prob = out.min() >= 0 and np.allclose(out.sum(-1), 1, atol=1e-3)
        return out if is_prob else np.asarray(tf.nn.softmax(out, axis=-1))

    return probabilities


def lime_text(
    model: Any,
    texts: Sequence[str],
    *,
    target: Any = None,
    class_names: Sequence[str] | None = None,
    num_samples: int = 1000,
    num_features: int = 6,
    seed: int = 0,
    verbose: bool = False,
) -> list[list[tuple[str, float]]]:
    """(word, weight) pairs per text, highest |weight| first, for a string model."""
    # heavy: lime (and skimage) only when LIME runs
    from lime import lime_text as lx

    texts = [str(t) for t in texts]
    classify = text_classifier(model)
    probs = classify(texts)
    targets = probs.argmax(-1) if target is None else np.broadcast_to(target, (len(texts),))
    bar = keras.utils.Progbar(len(texts), unit_name="text") if verbose else None
    out = []
    for text, cls in zip(texts, targets):
        explainer = lx.LimeTextExplainer(
            class_names=list(class_names) if class_names else None, random_state=seed
        )
        exp = explainer.explain_instance(
            text, classify, labels=(int(cls),), num_features=num_features, num_samples=num_samples
        )
        out.append(exp.as_list(label=int(cls)))
        if bar is not None:
            bar.add(1)
    return out


def top_regions(maps: np.ndarray, details: list[dict[str, Any]], k: int) -> np.ndarray:
    """Boolean (B, H, W): the pixels of each image's top-k positive superpixels."""
    masks = np.zeros(maps.shape, bool)
    for i, info in enumerate(details):
        top = [s for s, w in info["weights"][:k] if w > 0]
        masks[i] = np.isin(info["segments"], top)
    return masks


def stability(
    model: Any, inputs: np.ndarray, *, seeds: Sequence[int], k: int = 5, **kw: Any
) -> dict[str, Any]:
    """How stable LIME's top-k superpixels are across seeds, and whether a seed repeats.

    Returns the mean pairwise Jaccard overlap of the top-k regions across `seeds`
    (1.0 = identical) and whether re-running the first seed reproduced its maps exactly.
    """
    regions, first = [], None
    for seed in seeds:
        maps, details = lime_image(model, inputs, seed=seed, return_details=True, **kw)
        first = maps if first is None else first
        regions.append(top_regions(maps, details, k))
    again = lime_image(model, inputs, seed=seeds[0], **kw)
    overlaps = []
    for a in range(len(regions)):
        for b in range(a + 1, len(regions)):
            inter = (regions[a] & regions[b]).sum(axis=(1, 2))
            union = (regions[a] | regions[b]).sum(axis=(1, 2))
            overlaps.append(np.where(union > 0, inter / np.maximum(union, 1), 1.0))
    jaccard = np.mean(overlaps, axis=0) if overlaps else np.ones(len(inputs))
    return {
        "seeds": list(seeds),
        "top_k": k,
        "mean_jaccard": float(np.mean(jaccard)),
        "per_image_jaccard": [float(v) for v in jaccard],
        "same_seed_identical": bool(np.array_equal(first, again)),
    }


def tabular_stability(
    model: Any, inputs: np.ndarray, *, seeds: Sequence[int], k: int = 5, **kw: Any
) -> dict[str, Any]:
    """`stability` for table rows: Jaccard overlap of the top-k features by |weight|."""
    runs = [lime_tabular(model, inputs, seed=seed, num_features=k, **kw) for seed in seeds]
    again = lime_tabular(model, inputs, seed=seeds[0], num_features=k, **kw)
    tops = [[set(np.argsort(-np.abs(row))[:k]) for row in run] for run in runs]
    overlaps = [
        [len(a & b) / max(len(a | b), 1) for a, b in zip(tops[i], tops[j])]
        for i in range(len(tops))
        for j in range(i + 1, len(tops))
    ]
    jaccard = np.mean(overlaps, axis=0) if overlaps else np.ones(len(inputs))
    return {
        "seeds": list(seeds),
        "top_k": k,
        "mean_jaccard": float(np.mean(jaccard)),
        "per_row_jaccard": [float(v) for v in jaccard],
        "same_seed_identical": bool(np.array_equal(runs[0], again)),
    }
