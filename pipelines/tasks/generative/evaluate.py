"""Test-split evaluation of generative runs: numbers for metrics.json, figures and the
report section (text in `pipelines/tasks/generative/report.py`).

- Every model: its own losses on the test split (`test_<tracker>`).
- Models with an encoder (autoencoders, VAE, AAE): test reconstruction MSE in [0, 1]
  pixel units next to PCA with as many components as the code has units, the figure
  of originals above reconstructions (and PCA's), the 2-D latent map by class.
- Models with a prior (GANs, VAE, AAE): judge-classifier Frechet distance, class
  histogram and KL, label accuracy for conditional models, Parzen log-likelihood;
  sample grid, latent interpolation, one row per class.
- InfoGAN: how well its categorical code recovers the classes, and grids varying one
  code at a time (`pipelines/tasks/generative/codes.py`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.decomposition import PCA

from common import report
from pipelines.data.arrays import split_arrays
from pipelines.tasks.generative import codes as gcodes
from pipelines.tasks.generative import metrics as gm
from pipelines.tasks.generative import plots as gplots
from pipelines.tasks.generative import report as greport
from pipelines.tasks.generative import sampling as gs
from pipelines.tasks.generative.corruption import corruption_fn
from pipelines.tasks.generative.judge import check_compatible, load_or_train, settings

SHOWN = 10  # images per row in the reconstruction figure


def evaluate_generative(run) -> dict[str, Any]:
    """All of the above for `run`; writes plots and the "evaluate" report section."""
    metrics = _test_losses(run)
    parts = [greport.losses_markdown(metrics)]
    if hasattr(run.model, "encoder"):
        recon, markdown = _reconstruction(run)
        metrics.update(recon)
        parts.append(markdown)
    if run.model.has_prior:
        generated, markdown = _generation(run)
        metrics.update(generated)
        parts.append(markdown)
    report.section(run.run_dir, "evaluate", "\n".join(parts))
    return metrics


def _test_ds(run):
    corruption = getattr(run.model, "corruption", None)
    if not corruption:
        return run.bundle.test
    return run.bundle.test.map(corruption_fn(corruption, run.bundle.spec.input_range, run.cfg.seed))


def _test_losses(run) -> dict[str, Any]:
    results = run.model.evaluate(_test_ds(run), verbose=0, return_dict=True)
    return {f"test_{k}": float(v) for k, v in results.items()}


def _mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2))


def _reconstruction(run) -> tuple[dict[str, Any], str]:
    model, spec = run.model, run.bundle.spec
    unit = lambda a: gs.to_unit(a, spec.input_range)  # noqa: E731
    train_x, _, _ = split_arrays(run.bundle, "train", limit=20_000)
    test_x, test_y, _ = split_arrays(run.bundle, "test")
    flat_train = unit(train_x).reshape(len(train_x), -1)
    pca = PCA(n_components=min(model.latent_dim, *flat_train.shape)).fit(flat_train)

    def pca_recon(x):
        flat = unit(x).reshape(len(x), -1)
        return pca.inverse_transform(pca.transform(flat)).reshape(x.shape)

    recon = gs.reconstruct(model, test_x)
    out = {
        "recon_mse": _mse(unit(recon), unit(test_x)),
        "pca_mse": _mse(pca_recon(test_x), unit(test_x)),
        "code_size": int(model.latent_dim),
    }
    out["recon_vs_pca"] = out["recon_mse"] / max(out["pca_mse"], 1e-12)
    out["beats_pca"] = out["recon_mse"] < out["pca_mse"]
    rows = [test_x[:SHOWN], recon[:SHOWN], _to_raw(pca_recon(test_x[:SHOWN]), spec)]
    titles = ["original", model.name, f"PCA {out['code_size']}"]
    corruption = getattr(model, "corruption", None)
    if corruption:
        out.update(_denoising(run, test_x, pca_recon))
        noisy = _corrupt(run, test_x[:SHOWN])
        rows = [noisy, gs.reconstruct(model, noisy), test_x[:SHOWN]]
        titles = ["corrupted", "denoised", "clean"]
    figure = gplots.image_rows(
        rows,
        run.run_dir / "plots" / "reconstructions.png",
        input_range=spec.input_range,
        row_titles=titles,
        title="test images and their reconstructions",
    )
    latent = _latent_figure(run, test_x, test_y)
    return out, greport.reconstruction_markdown(out, figure, latent, run.run_dir, corruption)


def _to_raw(unit_images: np.ndarray, spec) -> np.ndarray:
    lo, hi = spec.input_range
    return lo + np.asarray(unit_images) * (hi - lo)


def _corrupt(run, images: np.ndarray) -> np.ndarray:
    fn = corruption_fn(run.model.corruption, run.bundle.spec.input_range, run.cfg.seed + 7)
    (noisy, _), _ = fn(np.asarray(images, np.float32), np.zeros(len(images)))
    return np.asarray(noisy)


def _denoising(run, test_x: np.ndarray, pca_recon) -> dict[str, float]:
    """Clean-target errors of the denoiser, of the noisy input itself and of PCA."""
    unit = lambda a: gs.to_unit(a, run.bundle.spec.input_range)  # noqa: E731
    noisy = _corrupt(run, test_x)
    return {
        "denoise_mse": _mse(unit(gs.reconstruct(run.model, noisy)), unit(test_x)),
        "noisy_input_mse": _mse(unit(noisy), unit(test_x)),
        "pca_denoise_mse": _mse(pca_recon(noisy), unit(test_x)),
    }


def _latent_figure(run, test_x: np.ndarray, test_y: np.ndarray):
    model, spec = run.model, run.bundle.spec
    n = min(len(test_x), 3000)
    points, caption = gm.pca_2d(gs.encode(model, test_x[:n]))
    samples = prior_points = None
    if model.has_prior:
        samples = gs.sample(model, 64, seed=run.cfg.seed + 3)
        if model.latent_dim == 2:
            prior_points = gs.prior_draws(model, 2000, seed=run.cfg.seed + 4)
    return gplots.latent_map(
        points,
        test_y[:n],
        spec.class_names,
        run.run_dir / "plots" / "latent_map.png",
        caption=caption,
        prior_samples=samples,
        input_range=spec.input_range,
        prior_points=prior_points,
    )


def _generation(run) -> tuple[dict[str, Any], str]:
    model, spec, cfg = run.model, run.bundle.spec, run.cfg
    conf = settings(cfg)
    _, train_y, _ = split_arrays(run.bundle, "train")
    shares = gm.class_shares(train_y, spec.num_classes)
    labels = gs.balanced_labels(conf.eval_samples, shares, cfg.seed) if model.conditional else None
    fake = gs.sample(model, conf.eval_samples, labels, seed=cfg.seed + 1)
    out: dict[str, Any] = {"generated_finite": bool(np.isfinite(fake).all())}
    if not out["generated_finite"]:
        return out, "## Generated samples\nThe generator produced NaN/inf values.\n"
    judge = load_or_train(run)
    if judge is not None:
        check_compatible(judge, spec)
        out.update(_judge_metrics(run, judge, fake, labels, shares))
    if conf.parzen is not None:
        out["parzen"] = _parzen(run, conf.parzen)
        out["parzen_log_likelihood"] = out["parzen"]["log_likelihood"]  # for claims
    figures = _generation_figures(run, out.get("generated_shares"), shares)
    markdown = greport.generation_markdown(out, figures, run.run_dir, model.conditional)
    if hasattr(model, "infer_codes"):  # InfoGAN: what its latent codes mean
        codes, codes_markdown = gcodes.evaluate_codes(run, judge)
        out.update(codes)
        markdown += "\n\n" + codes_markdown
    return out, markdown


def _judge_metrics(run, judge, fake, labels, shares) -> dict[str, Any]:
    spec, n = run.bundle.spec, len(fake)
    test_x, _, _ = split_arrays(run.bundle, "test")
    train_x, _, _ = split_arrays(run.bundle, "train", limit=n)
    f_test, p_test = judge.embed(test_x)
    f_fake, p_fake = judge.embed(fake)
    gen_shares = gm.class_shares(p_fake.argmax(1), spec.num_classes)
    out: dict[str, Any] = {
        "judge_accuracy": judge.accuracy,
        "judge_run": str(judge.run_dir),
        "frechet_distance": gm.frechet_distance(f_test, f_fake),
        "frechet_distance_train_vs_test": gm.frechet_distance(f_test, judge.embed(train_x)[0]),
        "generated_shares": [float(s) for s in gen_shares],
        "class_kl": gm.kl_divergence(gen_shares, shares),
        "modes_covered": gm.modes_covered(gen_shares, shares),
        "num_classes": spec.num_classes,
        "judge_confidence_generated": float(p_fake.max(1).mean()),
        "judge_confidence_test": float(p_test.max(1).mean()),
    }
    if labels is not None:
        acc = gm.label_accuracy(p_fake.argmax(1), labels)
        out["label_accuracy"] = acc["accuracy"]
        out["label_accuracy_per_class"] = {
            spec.class_names[k]: v for k, v in acc["per_class"].items()
        }
    return out


def _parzen(run, conf) -> dict[str, Any]:
    """The papers' protocol for the model, and for train images as the window."""
    model, spec, seed = run.model, run.bundle.spec, run.cfg.seed
    unit = lambda a: gs.to_unit(a, spec.input_range)  # noqa: E731
    val_x, _, _ = split_arrays(run.bundle, "val", conf.max_eval)
    test_x, _, _ = split_arrays(run.bundle, "test", conf.max_eval)
    train_x, train_y, _ = split_arrays(run.bundle, "train", conf.samples)
    labels = None
    if model.conditional:
        labels = gs.balanced_labels(conf.samples, gm.class_shares(train_y, spec.num_classes), seed)
    window = gs.sample(model, conf.samples, labels, seed=seed + 2)
    sigmas = conf.sigmas or gm.DEFAULT_SIGMAS
    result = gm.parzen_protocol(unit(window), unit(val_x), unit(test_x), sigmas)
    reference = gm.parzen_protocol(unit(train_x), unit(val_x), unit(test_x), sigmas)
    return {
        **result,
        "window": len(window),
        "test_examples": len(test_x),
        "train_window": len(train_x),
        "train_window_log_likelihood": reference["log_likelihood"],
        "train_window_sigma": reference["sigma"],
    }


def _generation_figures(run, gen_shares, data_shares) -> dict[str, Any]:
    model, spec, cfg = run.model, run.bundle.spec, run.cfg
    conf, plots_dir, k = settings(cfg), run.run_dir / "plots", spec.num_classes
    figures: dict[str, Any] = {}
    rows = k if model.conditional else conf.grid
    labels = np.repeat(np.arange(rows), conf.grid).astype(np.int32) if model.conditional else None
    figures["samples"] = gplots.sample_grid(
        gs.sample(model, rows * conf.grid, labels, seed=cfg.seed),
        plots_dir / "samples_final.png",
        input_range=spec.input_range,
        columns=conf.grid,
        row_titles=[spec.class_names[i] for i in range(k)] if model.conditional else None,
        title="one row per requested class" if model.conditional else "samples (fixed noise)",
    )
    figures["interpolation"] = _interpolation(run, conf, plots_dir / "interpolation.png")
    if gen_shares is not None:
        figures["histogram"] = gplots.class_histogram(
            np.asarray(gen_shares),
            data_shares,
            spec.class_names,
            plots_dir / "class_histogram.png",
            title="classes of generated images (judge classifier) vs the data",
        )
    return figures


def _interpolation(run, conf, path):
    """Rows of images decoded along straight lines between two prior draws."""
    model, spec, seed = run.model, run.bundle.spec, run.cfg.seed
    pairs, steps = min(conf.grid, 8), conf.interpolation_steps
    labels = np.arange(pairs, dtype=np.int32) % spec.num_classes if model.conditional else None
    start = gs.prior_draws(model, pairs, labels, seed=seed + 5)
    end = gs.prior_draws(model, pairs, None if labels is None else labels, seed=seed + 6)
    t = np.linspace(0.0, 1.0, steps)[None, :, None]
    codes = (start[:, None, :] * (1 - t) + end[:, None, :] * t).reshape(pairs * steps, -1)
    row_labels = None if labels is None else np.repeat(labels, steps)
    images = gs.generate(model, codes.astype(np.float32), row_labels)
    titles = [spec.class_names[i] for i in labels] if labels is not None else None
    return gplots.sample_grid(
        images,
        path,
        input_range=spec.input_range,
        columns=steps,
        row_titles=titles,
        title="linear interpolation between two codes (Goodfellow et al. 2014, fig. 3)",
    )
