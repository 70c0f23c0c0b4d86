"""Decoding a trained `seq2seq` model: greedy and beam search (Sutskever et al. 2014).

Both run `AttentionDecoder.step` for a fixed number of steps with `keras.ops` only, so
they work eagerly and inside a traced serving function. After a sequence emits
[end] it only extends with padding (id 0) at no cost, so finished and running
hypotheses compare fairly. Beam search with width 1 is greedy decoding.
"""

from __future__ import annotations

from typing import NamedTuple

import keras
from keras import ops

NEG = -1e9  # "impossible" in log-probabilities (finite: -inf - -inf would be NaN)


class Decoded(NamedTuple):
    tokens: object  # [B, L] ids, 0 after [end]
    scores: object  # [B] sum of token log-probabilities
    attention: object  # [B, L, S] weights, or None without attention


def _prepare(model: keras.Model, source):
    encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")
    outputs, *state = encoder(source, training=False)
    return decoder, outputs, decoder.keys(outputs), ops.not_equal(source, 0), state


def greedy_decode(model: keras.Model, source, *, max_length: int, start_id: int, end_id: int):
    """The most likely token at every step. Returns `Decoded`."""
    decoder, outputs, keys, mask, state = _prepare(model, source)
    state = decoder.start_state(state)
    batch = ops.shape(source)[0]
    token = ops.full((batch,), start_id, "int32")
    done = ops.zeros((batch,), "bool")
    score = ops.zeros((batch,), "float32")
    tokens, weights = [], []
    for _ in range(max_length):
        logits, state, w = decoder.step(token, state, outputs, keys, mask)
        logp = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)
        token = ops.where(done, 0, ops.cast(ops.argmax(logp, axis=-1), "int32"))
        picked = ops.take_along_axis(logp, ops.expand_dims(token, -1), axis=-1)[:, 0]
        score = score + ops.where(done, 0.0, picked)
        done = ops.logical_or(done, ops.equal(token, end_id))
        tokens.append(token)
        weights.append(w)
    attention = None if weights[0] is None else ops.stack(weights, axis=1)
    return Decoded(ops.stack(tokens, axis=1), score, attention)


def beam_search(
    model: keras.Model,
    source,
    *,
    beam_width: int,
    max_length: int,
    start_id: int,
    end_id: int,
    length_penalty: float = 0.0,
):
    """Keep the `beam_width` best partial translations at every step. Returns `Decoded`
    of the best hypothesis per input (scores divided by length**length_penalty)."""
    k = beam_width
    decoder, outputs, keys, mask, state = _prepare(model, source)
    batch = ops.shape(source)[0]
    tile = lambda x: None if x is None else ops.repeat(x, k, axis=0)  # noqa: E731
    outputs, keys, mask = tile(outputs), tile(keys), tile(mask)
    state = decoder.start_state([tile(s) for s in state])
    token = ops.full((batch * k,), start_id, "int32")
    # only the first beam is alive at the start, so the k beams do not all repeat it
    scores = ops.tile(ops.convert_to_tensor([[0.0] + [NEG] * (k - 1)]), (batch, 1))
    done = ops.zeros((batch, k), "bool")
    history = ops.zeros((batch, k, 0), "int32")
    attention = None
    for _ in range(max_length):
        logits, state, w = decoder.step(token, state, outputs, keys, mask)
        logp = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)
        vocab = ops.shape(logp)[-1]
        logp = ops.reshape(logp, (batch, k, vocab))
        pad_only = ops.where(ops.arange(vocab) == 0, 0.0, NEG)  # finished: pad at no cost
        logp = ops.where(ops.expand_dims(done, -1), pad_only, logp)
        total = ops.reshape(ops.expand_dims(scores, -1) + logp, (batch, k * vocab))
        scores, best = ops.top_k(total, k)
        parent, new = best // vocab, ops.cast(best % vocab, "int32")
        rows = ops.reshape(ops.arange(batch)[:, None] * k + parent, (-1,))
        state = [ops.take(s, rows, axis=0) for s in state]
        history = ops.concatenate(
            [ops.take_along_axis(history, ops.expand_dims(parent, -1), axis=1),
             ops.expand_dims(new, -1)], axis=-1,
        )
        if w is not None:  # the weights of each new hypothesis are its parent's
            step_w = ops.reshape(w, (batch, k, -1))
            step_w = ops.expand_dims(ops.take_along_axis(step_w, parent[:, :, None], axis=1), 2)
            attention = step_w if attention is None else ops.concatenate(
                [ops.take_along_axis(attention, parent[:, :, None, None], axis=1), step_w], 2
            )
        done = ops.logical_or(ops.take_along_axis(done, parent, axis=1), ops.equal(new, end_id))
        token = ops.reshape(new, (-1,))
    return _best(history, scores, attention, length_penalty)


def _best(history, scores, attention, length_penalty: float) -> Decoded:
    ranked = scores
    if length_penalty:
        lengths = ops.sum(ops.cast(ops.not_equal(history, 0), "float32"), axis=-1)
        ranked = scores / ops.power(ops.maximum(lengths, 1.0), length_penalty)
    pick = ops.expand_dims(ops.argmax(ranked, axis=1), -1)
    tokens = ops.take_along_axis(history, ops.expand_dims(pick, -1), axis=1)[:, 0]
    score = ops.take_along_axis(scores, pick, axis=1)[:, 0]
    if attention is not None:
        attention = ops.take_along_axis(attention, pick[:, :, None, None], axis=1)[:, 0]
    return Decoded(tokens, score, attention)


def decode(model: keras.Model, source, *, method: str = "greedy", beam_width: int = 4,
           max_length: int, start_id: int, end_id: int, length_penalty: float = 0.0):
    """Greedy or beam-search decoding by name (as `sequence.decode` in a recipe)."""
    if method == "beam":
        return beam_search(model, source, beam_width=beam_width, max_length=max_length,
                           start_id=start_id, end_id=end_id, length_penalty=length_penalty)
    return greedy_decode(model, source, max_length=max_length, start_id=start_id, end_id=end_id)
