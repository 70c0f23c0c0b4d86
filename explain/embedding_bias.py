"""Gender bias in word embeddings, and hard debiasing (Bolukbasi, Chang, Zou, Saligrama
and Kalai 2016, "Man is to computer programmer as woman is to homemaker? Debiasing
word embeddings").

Functions of a vocabulary and a matrix of word vectors (numpy; scikit-learn's PCA),
with no knowledge of how the vectors were made:

* `analogy`: 3CosAdd (Mikolov et al. 2013), a : b :: c : ? is the word whose unit
  vector is closest by cosine to b - a + c, the three query words excluded.
* `gender_direction`: Bolukbasi's g, the first principal component of the definitional
  pairs, each word minus its pair's mean (so the rows are +-(a - b) / 2); or, with
  `method="first_pair"`, simply the unit vector of a - b of the first pair (she - he).
  Oriented from the second word of each pair to the first: with pairs written
  (she, he), a positive projection leans to the female side.
* `projections`, `direct_bias`: cos(w, g) per word, and DirectBias_c = the mean over
  the gender-neutral words N of |cos(w, g)|^c (Bolukbasi et al., section 6);
  `random_direction_bias`, the same score on random directions, as a yardstick.
* `hard_debias`: neutralize (every neutral word loses its component along g and is
  renormalized), then equalize (the two words of a pair get their mean's neutral part
  nu and +-sqrt(1 - |nu|^2) along g), so every neutral word is equidistant from both.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
from sklearn.decomposition import PCA

Pair = tuple[str, str]


@dataclasses.dataclass(frozen=True)
class Embedding:
    """Words and their vectors scaled to unit length (float64: debiasing is checked to 1e-6)."""

    words: tuple[str, ...]
    unit: np.ndarray  # [count, dim]; a zero vector stays zero

    @classmethod
    def from_vectors(cls, words: Sequence[str], vectors: np.ndarray) -> Embedding:
        vectors = np.asarray(vectors, np.float64)
        if vectors.ndim != 2 or len(words) != len(vectors):
            raise ValueError(f"{len(words)} words for vectors of shape {vectors.shape}")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return cls(tuple(words), vectors / np.maximum(norms, 1e-12))

    @functools.cached_property
    def index(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.words)}

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def vector(self, word: str) -> np.ndarray:
        return self.unit[self.index[word]]

    def present(self, words: Iterable[str]) -> list[str]:
        """The words of `words` in this vocabulary, in their order."""
        return [w for w in words if w in self.index]


def _require(emb: Embedding, words: Iterable[str]) -> None:
    missing = [w for w in words if w not in emb]
    if missing:
        raise ValueError(f"not in the vocabulary: {', '.join(missing)}")


def analogy(emb: Embedding, a: str, b: str, c: str, *, k: int = 1) -> list[tuple[str, float]]:
    """a : b :: c : ? by 3CosAdd: the `k` best words and their cosine with b - a + c."""
    _require(emb, (a, b, c))
    target = emb.vector(b) - emb.vector(a) + emb.vector(c)
    sims = emb.unit @ (target / max(np.linalg.norm(target), 1e-12))
    sims[[emb.index[a], emb.index[b], emb.index[c]]] = -np.inf
    best = np.argsort(-sims)[:k]
    return [(emb.words[i], float(sims[i])) for i in best]


def gender_direction(
    emb: Embedding, pairs: Sequence[Pair], *, method: Literal["pca", "first_pair"] = "pca"
) -> tuple[np.ndarray, np.ndarray]:
    """The unit direction g and the variance ratio each principal component explains.

    Pairs with a word outside the vocabulary are left out; `first_pair` uses the first
    pair that remains (its ratio is [1.0]).
    """
    known = [(a, b) for a, b in pairs if a in emb and b in emb]
    if not known:
        raise ValueError(f"no definitional pair has both words in the vocabulary: {pairs}")
    diffs = np.stack([emb.vector(a) - emb.vector(b) for a, b in known])
    if method == "first_pair":
        direction, ratios = diffs[0], np.array([1.0])
    elif method == "pca":
        centred = np.concatenate([diffs / 2, -diffs / 2])  # each word minus its pair's mean
        pca = PCA(n_components=min(10, *centred.shape), svd_solver="full").fit(centred)
        direction, ratios = pca.components_[0], pca.explained_variance_ratio_
    else:
        raise ValueError(f"method: 'pca' or 'first_pair', got {method!r}")
    norm = np.linalg.norm(direction)
    if norm < 1e-12:
        raise ValueError(f"the definitional pairs {known} give no direction (equal vectors)")
    direction = direction / norm
    return (direction if (diffs @ direction).mean() >= 0 else -direction), ratios


def projections(emb: Embedding, words: Sequence[str], direction: np.ndarray) -> np.ndarray:
    """cos(w, g) for each word (the vectors are unit, g is unit)."""
    _require(emb, words)
    return emb.unit[[emb.index[w] for w in words]] @ direction


def direct_bias(cosines: np.ndarray, c: float = 1.0) -> float:
    """DirectBias_c: the mean of |cos(w, g)|^c over the gender-neutral words given."""
    cosines = np.asarray(cosines, np.float64)
    if cosines.size == 0:
        raise ValueError("direct_bias: no words")
    return float(np.mean(np.abs(cosines) ** c))


def random_direction_bias(emb: Embedding, words: Sequence[str], *, c: float = 1.0,
                          directions: int = 200, seed: int = 0) -> float:
    """DirectBias_c of `words` on random unit directions (mean over `directions`): the
    score a direction that means nothing gets, to read the gender direction's against."""
    rng = np.random.default_rng(seed)
    random = rng.standard_normal((directions, emb.unit.shape[1]))
    random /= np.linalg.norm(random, axis=1, keepdims=True)
    return float(np.mean(np.abs(vectors_of(emb, words) @ random.T) ** c))


def hard_debias(
    emb: Embedding, direction: np.ndarray, *, neutral: Iterable[str], equalize: Sequence[Pair]
) -> Embedding:
    """Neutralize the `neutral` words, then equalize the `equalize` pairs (present ones).

    Raises:
        ValueError: a word of an equalize pair is also in `neutral`.
    """
    rows = [emb.index[w] for w in emb.present(neutral)]
    pairs = [(a, b) for a, b in equalize if a in emb and b in emb]
    clash = sorted({w for pair in pairs for w in pair} & {emb.words[i] for i in rows})
    if clash:
        raise ValueError(f"words both neutral and in an equalize pair: {', '.join(clash)}")
    unit = emb.unit.copy()
    unit[rows] -= np.outer(unit[rows] @ direction, direction)
    unit[rows] /= np.maximum(np.linalg.norm(unit[rows], axis=1, keepdims=True), 1e-12)
    for a, b in pairs:
        ia, ib = emb.index[a], emb.index[b]
        mean = (unit[ia] + unit[ib]) / 2
        neutral_part = mean - (mean @ direction) * direction
        along = np.sqrt(max(1.0 - neutral_part @ neutral_part, 0.0))
        if (unit[ia] - unit[ib]) @ direction < 0:  # keep each word on its own side
            along = -along
        unit[ia] = neutral_part + along * direction
        unit[ib] = neutral_part - along * direction
    return Embedding(emb.words, unit)


def equidistance_gap(emb: Embedding, pairs: Sequence[Pair], neutral: Iterable[str]) -> float:
    """The largest | |w - a| - |w - b| | over the present pairs and neutral words w."""
    rows = emb.unit[[emb.index[w] for w in emb.present(neutral)]]
    gaps = [np.abs(np.linalg.norm(rows - emb.vector(a), axis=1)
                   - np.linalg.norm(rows - emb.vector(b), axis=1)).max()
            for a, b in pairs if a in emb and b in emb]
    return float(max(gaps)) if gaps and len(rows) else 0.0


def gender_plane(states: Sequence[Embedding], words: Sequence[str],
                 direction: np.ndarray) -> list[np.ndarray]:
    """2-D coordinates of `words` in each embedding: x = cos(w, g), y = the first principal
    component of the part of the vectors orthogonal to g (PCA fitted on the first
    embedding, so the axes are the same for all and a move shows as a move)."""

    def orthogonal(v: np.ndarray) -> np.ndarray:
        return v - np.outer(v @ direction, direction)

    pca = PCA(n_components=1).fit(orthogonal(vectors_of(states[0], words)))
    return [np.column_stack([v @ direction, pca.transform(orthogonal(v))[:, 0]])
            for v in (vectors_of(state, words) for state in states)]


def vectors_of(emb: Embedding, words: Sequence[str]) -> np.ndarray:
    _require(emb, words)
    return emb.unit[[emb.index[w] for w in words]]
