"""Markdown of the generative runs' evaluation section (numbers from generative_eval)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from common import report

# Parzen-window test log-likelihoods on MNIST reported by the papers (nats).
PAPER_PARZEN = "GAN 225 +- 2 (Goodfellow et al. 2014), AAE 340 +- 2 (Makhzani et al. 2015)"


def losses_markdown(metrics: dict[str, Any]) -> str:
    rows = [{"loss": k.removeprefix("test_"), "test split": v} for k, v in metrics.items()]
    return "## Evaluation (test split)\nThe model's own losses on the test split:\n\n" + (
        report.table(rows, ["loss", "test split"])
    )


def reconstruction_markdown(
    out: dict[str, Any], figure: Path, latent: Path, run_dir: Path, corruption: Any
) -> str:
    verdict = "beats" if out["beats_pca"] else "does NOT beat"
    lines = [
        "### Reconstruction vs PCA",
        f"Test mean squared error in [0, 1] pixel units: autoencoder **{out['recon_mse']:.5f}**, "
        f"PCA with the same {out['code_size']} components (scikit-learn, fitted on train) "
        f"**{out['pca_mse']:.5f}**; ratio {out['recon_vs_pca']:.3f}: the autoencoder "
        f"{verdict} linear PCA at this code size.",
    ]
    if corruption:
        lines.append(
            f"\nDenoising ({corruption['kind']} noise, level {corruption['level']}): "
            f"clean-target MSE of the denoised test images **{out['denoise_mse']:.5f}**, "
            f"of the corrupted inputs themselves {out['noisy_input_mse']:.5f}, of PCA "
            f"projections of the corrupted inputs {out['pca_denoise_mse']:.5f}."
        )
    lines += [
        "",
        report.image("reconstructions", figure, run_dir),
        "2-D map of test codes coloured by class (and decoded prior draws, when the "
        "model has a prior):\n",
        report.image("latent map", latent, run_dir),
    ]
    return "\n".join(lines)


def _judge_rows(out: dict[str, Any]) -> list[tuple[str, Any]]:
    return [
        ("Frechet distance, generated vs test", out["frechet_distance"]),
        (
            "Frechet distance, train vs test (real-data floor)",
            out["frechet_distance_train_vs_test"],
        ),
        ("KL(generated classes || data classes), nats", out["class_kl"]),
        (
            "classes covered (>= 10% of their data share)",
            f"{out['modes_covered']} / {out['num_classes']}",
        ),
        ("judge confidence on generated", out["judge_confidence_generated"]),
        ("judge confidence on test", out["judge_confidence_test"]),
    ]


def _judge_lines(out: dict[str, Any], conditional: bool) -> list[str]:
    acc = out.get("judge_accuracy")
    lines = [
        "### Sample quality, judged by a dlzoo classifier",
        f"The judge is a classifier trained by dlzoo on this run's data (`{out['judge_run']}`, "
        f"test accuracy {acc if acc is None else f'{acc:.4f}'}). The Frechet distance is "
        "computed between Gaussians fitted to its penultimate-layer features of the test "
        "images and of generated images; it is NOT the Inception FID (different network, "
        "different features, different scale): compare it only within this dataset.\n",
        report.table(
            [{"measure": m, "value": v} for m, v in _judge_rows(out)], ["measure", "value"]
        ),
    ]
    if conditional and "label_accuracy" in out:
        rows = [{"class": k, "accuracy": v} for k, v in out["label_accuracy_per_class"].items()]
        lines += [
            f"\nJudge accuracy on images generated for a requested label: "
            f"**{out['label_accuracy']:.4f}** (chance {1 / out['num_classes']:.2f}).\n",
            report.table(rows, ["class", "accuracy"]),
        ]
    return lines


def _parzen_lines(p: dict[str, Any]) -> list[str]:
    edge = ""
    if p["sigma_at_edge"]:
        edge = " (at the edge of the grid: widen `generative.parzen.sigmas`)"
    return [
        "### Parzen-window log-likelihood",
        f"A Gaussian window on {p['window']} generated images (pixels in [0, 1]), width chosen "
        f"on the validation split (sigma {p['sigma']:.4g}{edge}), mean log-likelihood of "
        f"{p['test_examples']} test images: **{p['log_likelihood']:.1f} +- {p['std_error']:.1f}** "
        f"nats. Same protocol with the {p['train_window']} TRAINING images as the window: "
        f"{p['train_window_log_likelihood']:.1f} (sigma {p['train_window_sigma']:.4g}). "
        f"The papers report on 28x28 MNIST: {PAPER_PARZEN}; numbers depend on the "
        "dimension and the data, so compare dlzoo models on the same data only. The "
        "estimate is known to be poor in high dimension (Theis et al. 2016).",
    ]


def generation_markdown(
    out: dict[str, Any], figures: dict[str, Path], run_dir: Path, conditional: bool
) -> str:
    lines = ["## Generated samples"]
    if "frechet_distance" in out:
        lines += _judge_lines(out, conditional)
    if "parzen" in out:
        lines += _parzen_lines(out["parzen"])
    lines.append("")
    for key, title in (
        ("samples", "samples"),
        ("interpolation", "latent interpolation"),
        ("histogram", "class histogram"),
    ):
        if key in figures:
            lines.append(report.image(title, figures[key], run_dir))
    lines.append("Sample grids saved during training (fixed noise): `plots/samples/`.")
    return "\n".join(lines)


def codes_markdown(out: dict[str, Any], figures: dict[str, Path], run_dir: Path) -> str:
    """InfoGAN: how well the categorical code recovers the classes, and the code grids."""
    k = out["code_categories"]
    lines = ["### Latent codes (InfoGAN)"]
    if "code_class_accuracy" in out:
        lines.append(
            f"Images generated for each of the {k} categorical code values, labelled by the "
            f"judge: code vs judge label after the best one-to-one matching (Hungarian "
            f"algorithm) **{out['code_class_accuracy']:.4f}** (chance about {1 / k:.2f}; no "
            "label was used in training; the paper reports about 0.95 on MNIST). "
            f"Matching code -> class: {out['code_class_matching']}."
        )
    lines += [
        f"Q's most likely code of the real test images vs their true labels, matched the "
        f"same way: **{out['q_class_accuracy']:.4f}**.",
        "",
    ]
    lines += [report.image(title, path, run_dir) for title, path in figures.items()]
    return "\n".join(lines)
