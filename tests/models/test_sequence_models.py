"""Sequence families: every registered model trains a few steps; padding is ignored
(padded and unpadded inputs give the same output); beam width 1 is greedy decoding."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from models.catalog import build_model, get_spec, list_models
from models.seq2seq_decode import beam_search, greedy_decode
from tests.conftest import learned, seeded

TASKS = ("sequence", "language_model", "seq2seq", "skipgram", "qa")
V, N = 20, 32
INPUTS = {
    "input_shape": (None,), "num_classes": 3, "vocab_size": V, "target_vocab_size": 12,
    "target_sequence_length": 5, "memory_size": 4, "sentence_length": 5, "num_negatives": 2,
}
TINY = {"units": 8, "embedding_dim": 8}


def tiny_params(name: str) -> dict:
    accepted = get_spec(name).builder.__code__.co_varnames
    return {k: v for k, v in TINY.items() if k in accepted}


def batch(task: str, rng: np.random.Generator):
    """A small learnable batch for the task (labels depend on the inputs)."""
    tokens = rng.integers(2, V, (N, 8)).astype("int32")
    tokens[: N // 2, 6:] = 0  # some padding
    if task == "sequence":
        return tokens, (tokens[:, 0] % 3).astype("int64")
    if task == "language_model":  # counting: the next token is the current one + 1
        counts = (rng.integers(0, 18, (N, 1)) + np.arange(9)) % 18 + 2
        return counts[:, :-1].astype("int32"), counts[:, 1:]
    if task == "seq2seq":
        target = (tokens[:, :5] % 9 + 1).astype("int32")
        return {"source": tokens[:, :6], "target_in": np.roll(target, 1, 1)}, target
    if task == "skipgram":
        return {"target": tokens[:, 0], "context": tokens[:, 1:4]}, np.zeros(N, "int64")
    story = rng.integers(1, V, (N, 4, 5)).astype("int32")
    return {"story": story, "question": story[:, -1]}, (story[:, -1, 0] % 3).astype("int64")


@pytest.mark.parametrize("name", [n for n in list_models() if get_spec(n).task in TASKS])
def test_each_sequence_model_trains_a_few_steps(name):
    keras.utils.set_random_seed(seeded(0))
    model = build_model(name, inputs=INPUTS, params=tiny_params(name))
    assert model.name == name
    x, y = batch(get_spec(name).task, np.random.default_rng(seeded(0)))
    model.compile(optimizer=keras.optimizers.Adam(0.03),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  run_eagerly=True)  # 8 tiny steps: cheaper than tracing a graph
    losses = model.fit(x, y, epochs=8, batch_size=N, verbose=0).history["loss"]
    assert np.isfinite(losses).all()
    learned("final / first loss", losses[-1] / losses[0], at_most=0.9)


@pytest.mark.parametrize("name,params", [
    ("lstm", {"bidirectional": True, "layers": 2}),
    ("rnn", {"cell": "gru", "pooling": "max"}),
    ("conv1d", {"layers": 2, "kernel_size": 3}),
    ("bag_of_embeddings", {}),
])
def test_padding_does_not_change_the_output(name, params):
    keras.utils.set_random_seed(1)
    model = build_model(name, inputs=INPUTS, params={**tiny_params(name), **params})
    ids = np.array([[5, 9, 3, 7, 2]], "int32")
    padded = np.concatenate([ids, np.zeros((1, 4), "int32")], axis=1)
    out, out_padded = np.asarray(model(ids)), np.asarray(model(padded))
    assert np.allclose(out, out_padded, atol=1e-5)
    other = np.asarray(model(np.array([[5, 9, 3, 7, 4]], "int32")))
    assert not np.allclose(out, other, atol=1e-5)  # the real tokens do matter


@pytest.mark.parametrize("name,shape", [("gru", (40, 1)), ("conv1d", (40,)), ("lstm", (8, 8, 1))])
def test_numeric_sequences_go_in_as_steps(name, shape):
    params = {"strides": 2} if name == "conv1d" else {}
    model = build_model(name, inputs={**INPUTS, "input_shape": shape, "vocab_size": None},
                        params={**tiny_params(name), **params})
    assert model(np.zeros((2, *shape), "float32")).shape == (2, 3)


@pytest.mark.parametrize("attention,cell", [("bahdanau", "lstm"), ("luong", "gru"),
                                            ("none", "lstm")])
def test_beam_width_one_is_greedy(attention, cell):
    keras.utils.set_random_seed(2)
    model = build_model("seq2seq", inputs=INPUTS,
                        params={**TINY, "attention": attention, "cell": cell})
    source = np.random.default_rng(0).integers(1, V, (3, 6)).astype("int32")
    source[0, 4:] = 0
    kwargs = dict(max_length=5, start_id=10, end_id=11)
    greedy = greedy_decode(model, source, **kwargs)
    beam = beam_search(model, source, beam_width=1, **kwargs)
    assert np.array_equal(np.asarray(greedy.tokens), np.asarray(beam.tokens))
    assert np.allclose(np.asarray(greedy.scores), np.asarray(beam.scores), atol=1e-5)
    # teacher forcing on the greedy output reproduces it: training and decoding agree
    target_in = np.concatenate([np.full((3, 1), 10), np.asarray(greedy.tokens)[:, :-1]], 1)
    forced = np.asarray(model({"source": source, "target_in": target_in.astype("int32")}))
    chosen = np.asarray(greedy.tokens)
    real = np.cumsum(chosen == 11, axis=1) - (chosen == 11) == 0  # up to and with [end]
    assert np.array_equal(forced.argmax(-1)[real], chosen[real])
    wide = beam_search(model, source, beam_width=4, **kwargs)
    assert np.asarray(wide.tokens).shape == (3, 5)
    if attention != "none":
        weights = np.asarray(greedy.attention)
        assert weights.shape == (3, 5, 6) and np.allclose(weights.sum(-1), 1, atol=1e-5)
        assert np.allclose(weights[0, :, 4:], 0, atol=1e-6)  # padding gets no attention
