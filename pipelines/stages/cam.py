"""The `cam:` stage: class activation maps (Zhou et al. 2016) of a trained model with a
global-average-pooling head (`allconv_gap`, `nin`, the ResNets), drawn over images of
the validation or test split. When the data has object masks (`shapes`), it also
scores the pointing game: how often the CAM's peak (the centre of its strongest cell),
for the true class, lies inside the object (`cam_pointing`, on up to 256 images).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from common import report
from common.errors import UserError
from models.allconv import cams_and_peaks
from pipelines.report import vision_plots
from pipelines.stages.registry import STAGES, Stage

if TYPE_CHECKING:
    from pipelines.run import Run

POINTING_IMAGES = 256


def pointing_rate(peaks: np.ndarray, masks: np.ndarray) -> float:
    """Fraction of (row, col) peaks that fall inside their image's (binary) mask."""
    return float(np.mean(masks[np.arange(len(masks)), peaks[:, 0], peaks[:, 1]] > 0))


def _images(run: Run, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Up to POINTING_IMAGES raw images of a split, their class ids, their masks if known."""
    split = run.bundle.raw.get(name)
    if split is None:  # tfds / file sources: take images from the pipeline
        xs, ys = zip(*[(np.asarray(x), np.asarray(y)) for x, y in run.bundle.split(name)])
        x, y, masks = np.concatenate(xs), np.concatenate(ys), None
    else:
        x, y, masks = split.x, split.y, split.extras.get("mask")
    y = np.asarray(y[:POINTING_IMAGES])
    if y.ndim > 1:  # one-hot labels
        y = y.argmax(-1)
    masks = None if masks is None else np.asarray(masks[:POINTING_IMAGES])
    return np.asarray(x[:POINTING_IMAGES], np.float32), y, masks


def run_stage(run: Run) -> dict[str, Any]:
    cfg = run.cfg.cam
    x, y, masks = _images(run, cfg.split)
    try:
        cams, peaks = cams_and_peaks(run.model, x, class_ids=y)
    except ValueError as err:
        raise UserError(f"cam: {err}; remove the `cam:` section or pick such a model") from None
    predicted = np.asarray(run.model(x[: cfg.images], training=False)).argmax(-1)
    names = run.bundle.spec.class_names
    titles = [f"{names[t]} -> {names[p]}" for t, p in zip(y[: cfg.images], predicted)]
    shown = masks[: cfg.images] if masks is not None else None
    path = vision_plots.cam_overlays(
        x[: cfg.images],
        cams[: cfg.images],
        peaks[: cfg.images],
        titles,
        run.run_dir / "plots" / "cam.png",
        shown,
    )
    metrics: dict[str, Any] = {}
    text = ""
    if masks is not None:
        metrics["cam_pointing"] = pointing_rate(peaks, masks)
        text = (
            f"Pointing game: the CAM peak (true class) lies inside the object in "
            f"**{metrics['cam_pointing']:.1%}** of {len(x)} {cfg.split} images.\n\n"
        )
    report.section(
        run.run_dir,
        "cam",
        "## Class activation maps\n"
        f"CAMs of the true class over {cfg.split} images (titles: true -> predicted; "
        "+ marks the peak, white lines the object when known).\n\n"
        + text
        + report.image("class activation maps", path, run.run_dir),
    )
    return metrics


STAGES.add(
    "cam",
    Stage(name="cam", applies=lambda cfg: cfg.cam is not None, run=run_stage, order=55),
)
