"""Batched numpy helpers around a trained generative model: draw from its prior,
generate, encode and reconstruct, always with images in the data's RAW range."""

from __future__ import annotations

import numpy as np
from keras import ops

BATCH = 500


def prior_draws(model, n: int, labels: np.ndarray | None = None, seed: int = 0) -> np.ndarray:
    """`n` fixed draws from the model's prior (`labels` select mixture components)."""
    return np.asarray(model.sample_noise(n, labels=labels, seed=seed))


def balanced_labels(n: int, shares: np.ndarray, seed: int = 0) -> np.ndarray:
    """`n` labels drawn with the class `shares` of the data."""
    rng = np.random.default_rng(seed)
    return rng.choice(len(shares), size=n, p=np.asarray(shares) / np.sum(shares)).astype(np.int32)


def generate(model, noise: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    """Raw-range images decoded from prior draws (labels for conditional models)."""
    out = []
    for start in range(0, len(noise), BATCH):
        codes = ops.convert_to_tensor(np.asarray(noise[start : start + BATCH], np.float32))
        part = None
        if labels is not None:
            part = ops.convert_to_tensor(np.asarray(labels[start : start + BATCH], np.int32))
        images = model.generate_from(codes, part, training=False)
        out.append(np.asarray(model.postprocess(images)))
    return np.concatenate(out)


def sample(model, n: int, labels: np.ndarray | None = None, seed: int = 0) -> np.ndarray:
    """`n` raw-range samples from the prior (for `labels` when given)."""
    return generate(model, prior_draws(model, n, labels, seed), labels)


def encode(model, images: np.ndarray) -> np.ndarray:
    """Codes of raw images (the posterior mean for a VAE)."""
    out = [
        np.asarray(model.encode(model.preprocess(images[i : i + BATCH]), training=False))
        for i in range(0, len(images), BATCH)
    ]
    return np.concatenate(out)


def reconstruct(model, images: np.ndarray) -> np.ndarray:
    """Raw-range reconstructions of raw images."""
    out = [np.asarray(model(images[i : i + BATCH])) for i in range(0, len(images), BATCH)]
    return np.concatenate(out)


def to_unit(images: np.ndarray, input_range: tuple[float, float]) -> np.ndarray:
    """Raw pixels -> [0, 1] (the scale of the MSE and Parzen numbers)."""
    lo, hi = input_range
    return (np.asarray(images, np.float32) - lo) / ((hi - lo) or 1.0)
