"""`dlzoo generate`: draw images from an exported generator or decoder.

    dlzoo generate saved_models/cgan_digits-generator --label 3 -n 16 --out threes.png

Codes are drawn from the prior recorded in the export's metadata.json (N(0, I), the
AAE's mixture of Gaussians, or InfoGAN's noise and codes, where `--label K` fixes the
categorical code to K: a code value, not a class), so the command needs nothing but
the SavedModel.
Import-light: TensorFlow loads inside the command.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click
import numpy as np

from common.errors import UserError


def prior_draws(prior: dict[str, Any], n: int, label: int | None, seed: int) -> np.ndarray:
    """`n` codes from the recorded prior (a label picks the mixture component, or
    InfoGAN's categorical code)."""
    rng = np.random.default_rng(seed)
    if prior["kind"] == "infogan":
        return _infogan_draws(prior, n, label, rng)
    z = rng.standard_normal((n, prior["latent_dim"])).astype(np.float32)
    if prior["kind"] != "mixture":
        return z
    from models.aae import mixture_codes  # heavy (Keras), as the command itself

    k = rng.integers(0, prior["components"], n)
    if label is not None and prior.get("label_selects_component"):
        k = np.full(n, label)
    codes = mixture_codes(z, k, components=prior["components"], radius=prior["radius"],
                          spread=prior["spread"])
    return np.asarray(codes, np.float32)


def _infogan_draws(prior: dict[str, Any], n: int, label: int | None, rng) -> np.ndarray:
    from models.infogan import compose  # heavy (Keras), as the command itself

    z = rng.standard_normal((n, prior["noise_dim"]))
    k = rng.integers(0, prior["categories"], n) if label is None else np.full(n, label)
    continuous = rng.uniform(-1.0, 1.0, (n, prior["continuous"]))
    return np.asarray(compose(z, k, continuous, categories=prior["categories"]), np.float32)


def draw(model_path: Path, n: int, label: int | None, seed: int) -> tuple[np.ndarray, dict]:
    """Raw-range images from the generator/decoder at `model_path`, and its metadata."""
    import tensorflow as tf  # heavy: only when the command runs

    # heavy (TensorFlow): imported when the command runs, so --help answers at once
    from common.versions import resolve_version

    path = resolve_version(model_path)
    meta_file = path / "metadata.json"
    meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
    if meta.get("role") not in ("generator", "decoder"):
        raise UserError(
            f"{path} is not a dlzoo generator or decoder export (metadata role "
            f"{meta.get('role')!r}); use saved_models/<name>-generator or <name>-decoder"
        )
    classes = meta.get("class_names", [])
    prior = meta["prior"]
    label_aware = meta.get("conditional") or prior.get("label_selects_component")
    if prior["kind"] == "infogan":  # --label is the categorical code's value
        label_aware, classes = True, range(prior["categories"])
    if label is not None and not label_aware:
        raise UserError(f"{path} is not label-conditioned; drop --label")
    if label is not None and not 0 <= label < len(classes):
        raise UserError(f"--label {label}: the model knows classes 0..{len(classes) - 1}")
    codes = prior_draws(prior, n, label, seed)
    feeds = {"noise" if meta["role"] == "generator" else "codes": tf.constant(codes)}
    if meta.get("conditional"):
        chosen = np.random.default_rng(seed + 1).integers(0, len(classes), n)
        feeds["labels"] = tf.constant(np.full(n, label) if label is not None else chosen, tf.int32)
    serve = tf.saved_model.load(str(path)).signatures["serving_default"]
    return np.asarray(serve(**feeds)["images"]), meta


@click.command()
@click.argument("model_path", type=click.Path(path_type=Path))
@click.option("-n", "--num", default=64, show_default=True, help="Images to draw.")
@click.option("--label", type=int, default=None, help="Class id (conditional models).")
@click.option("--seed", default=0, show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=Path("samples.png"))
@click.option("--npy", type=click.Path(path_type=Path), default=None, help="Also save arrays.")
def generate(
    model_path: Path, num: int, label: int | None, seed: int, out: Path, npy: Path | None
) -> None:
    """Draw images from an exported generator or decoder into a PNG grid."""
    if num < 1:
        raise UserError(f"-n must be >= 1, got {num}")
    images, meta = draw(model_path, num, label, seed)
    # heavy (TensorFlow): imported when the command runs, so --help answers at once
    from pipelines.tasks.generative.plots import sample_grid

    sample_grid(
        images,
        out,
        input_range=tuple(meta["image_range"]),
        columns=int(math.ceil(math.sqrt(num))),
        title=f"{meta.get('recipe', '')} {meta['role']}"
        + (f", label {label}" if label is not None else ""),
    )
    if npy:
        np.save(npy, images)
    click.echo(f"{num} images ({images.dtype}, range {meta['image_range']}) -> {out}")
