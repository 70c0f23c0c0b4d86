"""What an InfoGAN's latent codes came to mean (Chen et al. 2016, Fig. 2), measured
without the labels it never saw in training:

- `code_class_accuracy`: images generated for each value of the categorical code
  (the same number per value), labelled by the judge classifier; the accuracy of code
  value vs judge label after the best one-to-one matching of values to classes
  (`metrics.matched_accuracy`). Needs the judge.
- `q_class_accuracy`: Q's predicted code of the REAL test images vs their true
  labels, matched the same way (Q as an unsupervised classifier; the paper's 5% error).
- Figures: one grid with a row per code value and a column per noise draw z
  (continuous codes 0), and one grid per continuous code: a row per code value, that
  code swept over [-2, 2] (the paper's range, twice the prior's), z and the others fixed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from models.infogan import compose
from pipelines.data.arrays import split_arrays
from pipelines.tasks.generative import metrics as gm
from pipelines.tasks.generative import plots as gplots
from pipelines.tasks.generative import report as greport
from pipelines.tasks.generative import sampling as gs
from pipelines.tasks.generative.judge import settings

SWEEP = 2.0  # continuous codes are swept over [-SWEEP, SWEEP]


def evaluate_codes(run, judge) -> tuple[dict[str, Any], str]:
    """The numbers above (into metrics.json) and the report text with the grids."""
    model, spec, cfg = run.model, run.bundle.spec, run.cfg
    k = model.categories
    out: dict[str, Any] = {"code_categories": k}
    if judge is not None:
        per_code = max(settings(cfg).eval_samples // k, 1)
        codes = np.repeat(np.arange(k), per_code).astype(np.int32)
        fake = gs.sample(model, len(codes), codes, seed=cfg.seed + 8)
        judged = judge.embed(fake)[1].argmax(1)
        match = gm.matched_accuracy(codes, judged, k, spec.num_classes)
        out.update(
            code_class_accuracy=match["accuracy"],
            code_class_matching={str(c): spec.class_names[j] for c, j in match["matching"].items()},
            code_class_confusion=match["confusion"],
        )
    test_x, test_y, _ = split_arrays(run.bundle, "test")
    predicted = q_codes(model, test_x)
    q_match = gm.matched_accuracy(predicted, test_y, k, spec.num_classes)
    out.update(q_class_accuracy=q_match["accuracy"], q_class_confusion=q_match["confusion"])
    titles = _row_titles(out, k)
    figures = {"categorical code": _categorical_grid(run, titles)}
    for j in range(model.continuous):
        figures[f"continuous code {j + 1}"] = _continuous_grid(run, j, titles)
    return out, greport.codes_markdown(out, figures, run.run_dir)


def q_codes(model, images: np.ndarray) -> np.ndarray:
    """Q's most likely categorical code of raw images."""
    out = [
        np.asarray(model.infer_codes(model.preprocess(images[i : i + gs.BATCH]))["q_cat"])
        for i in range(0, len(images), gs.BATCH)
    ]
    return np.concatenate(out).argmax(1)


def _row_titles(out: dict[str, Any], k: int) -> list[str]:
    matching = out.get("code_class_matching", {})
    return [f"c={c}" + (f" ~{matching[str(c)]}" if str(c) in matching else "") for c in range(k)]


def _codes(model, z: np.ndarray, category: np.ndarray, continuous: np.ndarray) -> np.ndarray:
    return np.asarray(compose(z, category, continuous, categories=model.categories), np.float32)


def _categorical_grid(run, titles: list[str]):
    model, cfg, columns = run.model, run.cfg, settings(run.cfg).grid
    k = model.categories
    z = np.random.default_rng(cfg.seed + 9).standard_normal((columns, model.noise_dim))
    noise = _codes(model, np.tile(z, (k, 1)), np.repeat(np.arange(k), columns),
                   np.zeros((k * columns, model.continuous)))
    return gplots.sample_grid(
        gs.generate(model, noise),
        run.run_dir / "plots" / "code_categorical.png",
        input_range=run.bundle.spec.input_range,
        columns=columns,
        row_titles=titles,
        title="categorical code (rows) x noise z (columns), continuous codes 0",
    )


def _continuous_grid(run, j: int, titles: list[str]):
    model, cfg = run.model, run.cfg
    k, steps = model.categories, settings(cfg).interpolation_steps
    z = np.random.default_rng(cfg.seed + 10).standard_normal((1, model.noise_dim))
    continuous = np.zeros((k * steps, model.continuous))
    continuous[:, j] = np.tile(np.linspace(-SWEEP, SWEEP, steps), k)
    noise = _codes(model, np.repeat(z, k * steps, 0), np.repeat(np.arange(k), steps), continuous)
    return gplots.sample_grid(
        gs.generate(model, noise),
        run.run_dir / "plots" / f"code_continuous_{j + 1}.png",
        input_range=run.bundle.spec.input_range,
        columns=steps,
        row_titles=titles,
        title=f"categorical code (rows) x continuous code {j + 1} from {-SWEEP:g} to "
        f"{SWEEP:g} (columns), z and the other codes fixed",
    )
