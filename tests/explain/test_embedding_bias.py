"""Bolukbasi et al.'s bias measures and hard debiasing on hand-built word vectors, and
the word2vec text format: exact facts, no training."""

from __future__ import annotations

import numpy as np
import pytest

from common.errors import UserError
from explain.embedding_bias import (
    Embedding,
    analogy,
    direct_bias,
    equidistance_gap,
    gender_direction,
    gender_plane,
    hard_debias,
    projections,
    random_direction_bias,
)
from explain.word2vec_text import read_word2vec_text, write_word2vec_text

PAIRS = [("she", "he"), ("her", "his"), ("woman", "man")]
OCCUPATIONS = ["nurse", "engineer", "doctor", "teacher", "pilot"]


def random_embedding(seed: int = 0, extra: int = 20, dim: int = 8) -> Embedding:
    """Random vectors, the female words pushed along one axis and the male ones against."""
    rng = np.random.default_rng(seed)
    words = [w for pair in PAIRS for w in pair] + OCCUPATIONS + [f"w{i}" for i in range(extra)]
    vectors = rng.normal(size=(len(words), dim))
    for i in range(len(PAIRS)):
        vectors[2 * i, 0] += 2.0
        vectors[2 * i + 1, 0] -= 2.0
    vectors[len(PAIRS) * 2, 0] += 1.0  # the nurse leans female before debiasing
    return Embedding.from_vectors(words, vectors)


def test_hard_debias_zeroes_neutral_projections_and_equalizes_pairs():
    emb = random_embedding()
    g, ratios = gender_direction(emb, PAIRS)
    assert ratios[0] > 0.5 and abs(np.linalg.norm(g) - 1) < 1e-12
    neutral = [w for w in emb.words if w not in {w for p in PAIRS for w in p}]
    before = np.abs(projections(emb, neutral, g))
    assert before.max() > 0.1 and equidistance_gap(emb, PAIRS, neutral) > 0.1
    debiased = hard_debias(emb, g, neutral=neutral, equalize=PAIRS)
    assert np.abs(projections(debiased, neutral, g)).max() < 1e-6
    for a, b in PAIRS:  # equidistant from every neutral word, both on the unit sphere
        rows = debiased.unit[[debiased.index[w] for w in neutral]]
        gap = np.abs(np.linalg.norm(rows - debiased.vector(a), axis=1)
                     - np.linalg.norm(rows - debiased.vector(b), axis=1))
        assert gap.max() < 1e-6
        assert abs(np.linalg.norm(debiased.vector(a)) - 1) < 1e-9
        assert debiased.vector(a) @ g > 0 > debiased.vector(b) @ g  # each on its side
    assert equidistance_gap(debiased, PAIRS, neutral) < 1e-6
    assert np.allclose(np.linalg.norm(debiased.unit, axis=1), 1.0)
    # the neutral words only lose their component along g
    i = emb.index["doctor"]
    kept = emb.unit[i] - (emb.unit[i] @ g) * g
    assert np.allclose(debiased.unit[i], kept / np.linalg.norm(kept))
    with pytest.raises(ValueError, match="both neutral and in an equalize pair"):
        hard_debias(emb, g, neutral=["she", "nurse"], equalize=PAIRS)


def test_direct_bias_on_a_hand_built_embedding():
    # g = she - he = 2 e1: cos(nurse, g) = 0.6, cos(engineer, g) = -0.8, cos(doctor, g) = 0
    words = ["she", "he", "nurse", "engineer", "doctor"]
    vectors = np.array([[1, 0, 0], [-1, 0, 0], [0.6, 0.8, 0], [-0.8, 0, 0.6], [0, 0, 2.0]])
    emb = Embedding.from_vectors(words, vectors)
    for method in ("first_pair", "pca"):
        g, _ = gender_direction(emb, [("she", "he")], method=method)
        assert np.allclose(g, [1, 0, 0])  # oriented toward the first word of the pair
        cos = projections(emb, ["nurse", "engineer", "doctor"], g)
        assert np.allclose(cos, [0.6, -0.8, 0.0])
        assert direct_bias(cos) == pytest.approx((0.6 + 0.8 + 0.0) / 3, abs=1e-12)
        assert direct_bias(cos, c=2) == pytest.approx((0.36 + 0.64) / 3, abs=1e-12)
    # a direction that means nothing: E|cos| over the circle is 2 / pi for any unit word
    flat = Embedding.from_vectors(["a"], np.array([[0.6, 0.8]]))
    assert random_direction_bias(flat, ["a"], directions=20000) == pytest.approx(2 / np.pi,
                                                                               abs=0.01)
    plane = gender_plane([emb], ["she", "nurse", "engineer"], g)[0]
    assert np.allclose(plane[:, 0], [1.0, 0.6, -0.8])


def test_pca_direction_is_the_pairs_common_difference():
    # two pairs differing along e1 (and a little along e2 / -e2): the first principal
    # component of the centred pairs is e1, the e2 parts cancel
    words = ["she", "he", "her", "his", "x"]
    vectors = np.array([[1, 0.2, 1], [-1, 0, 1], [1, -0.2, -1], [-1, 0, -1], [0, 1, 0]])
    g, ratios = gender_direction(Embedding.from_vectors(words, vectors),
                                 [("she", "he"), ("her", "his")])
    assert abs(g[0]) > 0.99 and g[0] > 0 and ratios[0] > 0.9
    with pytest.raises(ValueError, match="no definitional pair"):
        gender_direction(Embedding.from_vectors(words, vectors), [("woman", "man")])


def test_analogy_probe_answers_a_hand_built_embedding():
    words = ["man", "woman", "king", "queen", "he", "she", "programmer", "homemaker", "x"]
    vectors = np.array([[0, 1, 0.1, 0], [0, -1, 0.1, 0], [1, 1, 0, 0], [1, -1, 0, 0],
                        [0, 1, 0, 0.1], [0, -1, 0, 0.1], [0, 1, 0, 1], [0, -1, 0, 1],
                        [0, 0, 1, 0]], float)
    emb = Embedding.from_vectors(words, vectors)
    assert analogy(emb, "man", "woman", "king")[0][0] == "queen"
    best = analogy(emb, "he", "she", "programmer", k=2)
    assert best[0][0] == "homemaker" and best[0][1] > best[1][1]
    assert {"he", "she", "programmer"}.isdisjoint(w for w, _ in best)  # queries excluded
    with pytest.raises(ValueError, match="not in the vocabulary: nurse"):
        analogy(emb, "he", "she", "nurse")


def test_word2vec_text_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    words = ["the", "she", "he", "naïve", "don't"]
    vectors = rng.normal(size=(5, 7)).astype(np.float32)
    path = write_word2vec_text(tmp_path / "v.txt", words, vectors)
    assert path.read_text().split("\n")[0] == "5 7"
    read_words, read_vectors = read_word2vec_text(path)
    assert read_words == words
    assert read_vectors.dtype == np.float32 and np.array_equal(read_vectors, vectors)
    with pytest.raises(ValueError, match="whitespace"):
        write_word2vec_text(tmp_path / "bad.txt", ["two words"], vectors[:1])


@pytest.mark.parametrize("text, message", [
    ("3\nthe 1 2 3\n", "header"),
    ("2 3\nthe 1 2 3\n", "announces 2 words"),
    ("1 3\nthe 1 2\n", "expected a word and 3 numbers"),
    ("1 3\nthe 1 x 3\n", "not a number"),
    ("2 2\nthe 1 2\nthe 3 4\n", "appears twice"),
])
def test_word2vec_text_reader_rejects_malformed_files(tmp_path, text, message):
    path = tmp_path / "v.txt"
    path.write_text(text)
    with pytest.raises(UserError, match=message):
        read_word2vec_text(path)
    with pytest.raises(UserError, match="not found"):
        read_word2vec_text(tmp_path / "absent.txt")
