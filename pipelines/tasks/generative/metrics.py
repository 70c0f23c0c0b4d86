"""Quality measures for generated images and reconstructions (numpy / scikit-learn).

- Frechet distance between Gaussians fitted to two feature sets (Heusel et al. 2017);
  dlzoo computes it in the penultimate layer of a classifier trained by dlzoo on the
  same data, NOT in Inception-v3's pool layer, so the numbers are not Inception FIDs.
- Class histogram of generated images as labelled by that classifier, its KL
  divergence to the data's class balance and the number of modes covered.
- Label accuracy: the classifier's accuracy on images generated for requested labels.
- Matched accuracy: how well an unsupervised code (InfoGAN's categorical code) recovers
  the classes, after the best one-to-one matching of code values to classes.
- Gaussian Parzen-window log-likelihood (Breuleux et al. 2011), the protocol of the
  GAN (Goodfellow 2014) and AAE (Makhzani 2015) papers: a window of generated samples,
  its width chosen on a validation split, mean log-likelihood of the test split.
- PCA reconstruction error with a given number of components, the linear baseline
  of an autoencoder with the same code size.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.special import logsumexp
from sklearn.decomposition import PCA

DEFAULT_SIGMAS = tuple(float(s) for s in np.geomspace(0.05, 0.5, 12))


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """|mu_a - mu_b|^2 + Tr(C_a + C_b - 2 (C_a C_b)^(1/2)) of feature rows `a`, `b`."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    distance = np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b)
    return float(max(distance - 2.0 * _trace_sqrt_product(cov_a, cov_b), 0.0))


def _trace_sqrt_product(cov_a: np.ndarray, cov_b: np.ndarray) -> float:
    """Tr((C_a C_b)^(1/2)) = Tr((C_a^(1/2) C_b C_a^(1/2))^(1/2)), through symmetric
    eigendecompositions: stable when ReLU features make the covariances singular
    (where `scipy.linalg.sqrtm` of the non-symmetric product warns and drifts)."""
    w, v = np.linalg.eigh(cov_a)
    root_a = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    middle = root_a @ cov_b @ root_a
    eig = np.linalg.eigvalsh((middle + middle.T) / 2.0)
    return float(np.sum(np.sqrt(np.clip(eig, 0.0, None))))


def class_shares(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Fraction of `labels` in each class."""
    counts = np.bincount(np.asarray(labels, int).reshape(-1), minlength=num_classes)
    return counts / max(counts.sum(), 1)


def kl_divergence(p: np.ndarray, q: np.ndarray, eps: float = 1e-6) -> float:
    """KL(p || q) in nats; `eps` keeps empty classes of q finite."""
    p = np.asarray(p, np.float64) + eps
    q = np.asarray(q, np.float64) + eps
    p, q = p / p.sum(), q / q.sum()
    return float(np.sum(p * np.log(p / q)))


def modes_covered(p_gen: np.ndarray, p_data: np.ndarray, fraction: float = 0.1) -> int:
    """Classes whose generated share is at least `fraction` of their data share."""
    return int(np.sum(np.asarray(p_gen) >= fraction * np.asarray(p_data)))


def label_accuracy(predicted: np.ndarray, requested: np.ndarray) -> dict[str, object]:
    """Overall and per-class accuracy of `predicted` against the `requested` labels."""
    predicted, requested = np.asarray(predicted), np.asarray(requested)
    per_class = {
        int(k): float(np.mean(predicted[requested == k] == k)) for k in np.unique(requested)
    }
    return {"accuracy": float(np.mean(predicted == requested)), "per_class": per_class}


def matched_accuracy(
    codes: np.ndarray, labels: np.ndarray, num_codes: int, num_classes: int
) -> dict[str, object]:
    """Accuracy of `codes` as class predictions after the best one-to-one matching.

    The confusion matrix C[code, class] is matched by the Hungarian algorithm
    (scipy's `linear_sum_assignment`, maximizing the matched counts); the accuracy is
    the matched count over all examples. With more codes than classes, unmatched code
    values count as errors. Returns the accuracy, the matching {code: class} and C.
    """
    codes, labels = np.asarray(codes, int).ravel(), np.asarray(labels, int).ravel()
    confusion = np.zeros((num_codes, num_classes), np.int64)
    np.add.at(confusion, (codes, labels), 1)
    rows, cols = linear_sum_assignment(confusion, maximize=True)
    return {
        "accuracy": float(confusion[rows, cols].sum() / max(len(codes), 1)),
        "matching": {int(r): int(c) for r, c in zip(rows, cols)},
        "confusion": confusion.tolist(),
    }


def _sq_distances(x: np.ndarray, centers: np.ndarray, center_norms: np.ndarray) -> np.ndarray:
    d2 = (x**2).sum(1)[:, None] + center_norms[None, :] - 2.0 * x @ centers.T
    return np.maximum(d2, 0.0)


def parzen_log_likelihoods(
    centers: np.ndarray, x: np.ndarray, sigmas: tuple[float, ...] | list[float], chunk: int = 256
) -> np.ndarray:
    """Log-density of each row of `x` under an isotropic Gaussian window on `centers`,
    for every width in `sigmas`: an array (len(x), len(sigmas)).

    Hand-written: scikit-learn's KernelDensity fits one bandwidth at a time and its
    tree search is slow in hundreds of dimensions; here one distance matrix per chunk
    serves every width.
    """
    centers = np.asarray(centers, np.float32).reshape(len(centers), -1)
    x = np.asarray(x, np.float32).reshape(len(x), -1)
    dim, n = centers.shape[1], len(centers)
    sigmas = np.asarray(sigmas, np.float64)
    norms = (centers**2).sum(1)
    out = np.empty((len(x), len(sigmas)))
    for start in range(0, len(x), chunk):
        d2 = _sq_distances(x[start : start + chunk], centers, norms).astype(np.float64)
        for j, sigma in enumerate(sigmas):
            out[start : start + chunk, j] = logsumexp(-d2 / (2.0 * sigma**2), axis=1)
    return out - math.log(n) - 0.5 * dim * np.log(2.0 * math.pi * sigmas**2)[None, :]


def parzen_protocol(
    window: np.ndarray,
    val: np.ndarray,
    test: np.ndarray,
    sigmas: tuple[float, ...] | list[float] = DEFAULT_SIGMAS,
) -> dict[str, object]:
    """Choose the width maximizing the mean validation log-likelihood, then score
    the test split: mean log-likelihood (nats) and its standard error."""
    val_ll = parzen_log_likelihoods(window, val, sigmas).mean(0)
    best = int(np.argmax(val_ll))
    test_ll = parzen_log_likelihoods(window, test, [sigmas[best]])[:, 0]
    return {
        "sigma": float(sigmas[best]),
        "log_likelihood": float(test_ll.mean()),
        "std_error": float(test_ll.std(ddof=1) / math.sqrt(len(test_ll))),
        "val_curve": {f"{s:.4g}": float(v) for s, v in zip(sigmas, val_ll)},
        "sigma_at_edge": best in (0, len(sigmas) - 1),
    }


def pca_reconstruction_mse(train: np.ndarray, test: np.ndarray, n_components: int) -> float:
    """Test mean squared error of PCA fitted on `train` with `n_components` axes."""

    train = np.asarray(train, np.float64).reshape(len(train), -1)
    test = np.asarray(test, np.float64).reshape(len(test), -1)
    n_components = min(n_components, *train.shape)
    pca = PCA(n_components=n_components).fit(train)
    recon = pca.inverse_transform(pca.transform(test))
    return float(np.mean((recon - test) ** 2))


def pca_2d(codes: np.ndarray) -> tuple[np.ndarray, str]:
    """Codes as 2-D points for a scatter: as they are when 2-D, else their first two
    principal components (the caption says which)."""
    codes = np.asarray(codes).reshape(len(codes), -1)
    if codes.shape[1] == 2:
        return codes, "the 2-D code itself"
    if codes.shape[1] == 1:
        return np.concatenate([codes, np.zeros_like(codes)], 1), "the 1-D code"

    return PCA(n_components=2).fit_transform(codes), "first two principal components of the code"
