"""Encoder-decoder translation (asynchronous many-to-many): Sutskever, Vinyals & Le 2014
and Cho et al. 2014 (no attention), Bahdanau, Cho & Bengio 2015 (additive attention),
Luong, Pham & Manning 2015 (multiplicative attention).

The encoder reads the source tokens into one vector per position; the decoder writes
the target one token at a time. Attention is the lecture's soft argmax: at each step
the decoder scores every source position against its state, turns the scores into
weights with a softmax and reads their weighted mean (the context).

* bahdanau: score(s_{t-1}, h_j) = v^T tanh(W1 s_{t-1} + W2 h_j), with the previous
  decoder state; the context is an input of the recurrent cell.
* luong: score(h_t, h_j) = h_t^T W_a h_j ("general"), with the current state; the
  attentional vector tanh(W_c [c_t; h_t]) predicts the token and is fed to the next
  step (input feeding).

Training is teacher-forced: inputs {"source": ids, "target_in": [start] y_1..y_n},
outputs the logits of y_1..y_n [end]. `models.seq2seq_decode` decodes greedily or by
beam search with the same `AttentionDecoder.step`.
"""

from __future__ import annotations

from typing import Literal

import keras
from keras import layers, ops

from models.registry import register_model

CELLS = {"lstm": (layers.LSTM, layers.LSTMCell), "gru": (layers.GRU, layers.GRUCell)}


class AttentionDecoder(layers.Layer):
    """The decoder: one `step` per target token, looped over the target in `call`."""

    def __init__(self, *, vocab_size, embedding_dim, units, cell, attention, dropout, **kwargs):
        super().__init__(**kwargs)
        self.units, self.attention = units, attention
        self.embedding = layers.Embedding(vocab_size, embedding_dim, name="target_embedding")
        self.cell = CELLS[cell][1](units, name=f"{cell}_cell")
        if attention == "bahdanau":
            self.query_proj = layers.Dense(units, use_bias=False, name="w1_query")
            self.key_proj = layers.Dense(units, use_bias=False, name="w2_keys")
            self.score = layers.AdditiveAttention(use_scale=True, name="additive_attention")
        elif attention == "luong":
            self.key_proj = layers.Dense(units, use_bias=False, name="wa_keys")
            self.score = layers.Attention(score_mode="dot", name="multiplicative_attention")
        if attention != "none":
            self.combine = layers.Dense(units, activation="tanh", name="attentional")
        self.dropout = layers.Dropout(dropout)
        self.logits = layers.Dense(vocab_size, name="logits")

    def keys(self, encoder_outputs):
        """Per-sequence key projections (computed once, reused at every step)."""
        return self.key_proj(encoder_outputs) if self.attention != "none" else None

    def start_state(self, encoder_state: list) -> list:
        if self.attention == "luong":  # + the attentional vector fed to the next step
            batch = ops.shape(encoder_state[0])[0]
            return [*encoder_state, ops.zeros((batch, self.units), encoder_state[0].dtype)]
        return list(encoder_state)

    def step(self, tokens, state, encoder_outputs, keys, source_mask, training=False):
        """One decoding step: (logits [B, V], new state, attention weights [B, S] or None)."""
        x = self.embedding(tokens)
        weights = None
        if self.attention == "bahdanau":
            query = ops.expand_dims(self.query_proj(state[0]), 1)
            context, weights = self._attend(query, encoder_outputs, keys, source_mask)
            h, state = self.cell(ops.concatenate([x, context], -1), state, training=training)
            out = self.combine(ops.concatenate([h, context], -1))
        elif self.attention == "luong":
            *cell_state, feed = state
            h, cell_state = self.cell(ops.concatenate([x, feed], -1), cell_state,
                                      training=training)
            context, weights = self._attend(ops.expand_dims(h, 1), encoder_outputs, keys,
                                            source_mask)
            out = self.combine(ops.concatenate([context, h], -1))
            state = [*cell_state, out]
        else:
            out, state = self.cell(x, state, training=training)
        logits = self.logits(self.dropout(out, training=training))
        return logits, list(state), weights

    def _attend(self, query, values, keys, source_mask):
        context, weights = self.score(
            [query, values, keys], mask=[None, source_mask], return_attention_scores=True
        )
        return context[:, 0], weights[:, 0]

    def call(self, target_in, encoder_outputs, source_mask, encoder_state, training=False):
        """Teacher forcing: logits [B, T, V] for the target inputs [B, T] (T static)."""
        keys = self.keys(encoder_outputs)
        state = self.start_state(list(encoder_state))
        # The first step outside the loop builds every sub-layer; the others run in a
        # graph loop (ops.scan), so the graph does not grow with the target length.
        first, state, _ = self.step(target_in[:, 0], state, encoder_outputs, keys,
                                    source_mask, training)

        def body(carry, tokens):  # Keras' TF scan wants outputs shaped like the carry
            logits, new_state, _ = self.step(tokens, carry[:-1], encoder_outputs, keys,
                                             source_mask, training)
            return [*new_state, logits], [*new_state, logits]

        _, steps = ops.scan(body, [*state, first], ops.transpose(target_in[:, 1:]))
        return ops.concatenate([first[:, None], ops.transpose(steps[-1], (1, 0, 2))], axis=1)


def _encoder(vocab_size, embedding_dim, units, cell, bidirectional, dropout) -> keras.Model:
    """Source ids -> (outputs [B, S, E], decoder start state as a list)."""
    source = keras.Input((None,), dtype="int32", name="source")
    x = layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name="source_embedding")(
        source
    )
    if dropout:
        x = layers.Dropout(dropout, name="source_dropout")(x)
    rnn = CELLS[cell][0](units, return_sequences=True, return_state=True, name=f"encoder_{cell}")
    n_states = 2 if cell == "lstm" else 1
    if not bidirectional:
        outputs, *state = rnn(x)
        return keras.Model(source, [outputs, *state], name="encoder")
    outputs, *both = layers.Bidirectional(rnn, name=f"encoder_bi{cell}")(x)
    forward, backward = both[:n_states], both[n_states:]
    # Bahdanau's s_0 = tanh(W h_1): the concatenated final states, projected to `units`.
    state = [
        layers.Dense(units, activation="tanh", name=f"bridge{i}")(ops.concatenate([f, b], -1))
        for i, (f, b) in enumerate(zip(forward, backward))
    ]
    return keras.Model(source, [outputs, *state], name="encoder")


@register_model("seq2seq", task="seq2seq")
def seq2seq(
    *,
    vocab_size: int,
    target_vocab_size: int,
    target_sequence_length: int,
    attention: Literal["bahdanau", "luong", "none"] = "bahdanau",
    cell: Literal["lstm", "gru"] = "lstm",
    units: int = 128,
    embedding_dim: int = 64,
    bidirectional: bool = True,
    dropout: float = 0.0,
) -> keras.Model:
    """Encoder-decoder with optional attention.

    Args:
        attention: "bahdanau" (additive), "luong" (multiplicative) or "none".
        cell: "lstm" or "gru", in the encoder and the decoder.
        units: decoder state size (and encoder's, per direction).
        bidirectional: a bidirectional encoder (its final states are projected).
        dropout: on the source embeddings and before the output layer.
    """
    encoder = _encoder(vocab_size, embedding_dim, units, cell, bidirectional, dropout)
    decoder = AttentionDecoder(
        vocab_size=target_vocab_size,
        embedding_dim=embedding_dim,
        units=units,
        cell=cell,
        attention=attention,
        dropout=dropout,
        name="decoder",
    )
    source = keras.Input((None,), dtype="int32", name="source")
    target_in = keras.Input((target_sequence_length,), dtype="int32", name="target_in")
    outputs, *state = encoder(source)
    logits = decoder(target_in, outputs, ops.not_equal(source, 0), state)
    return keras.Model({"source": source, "target_in": target_in}, logits, name="seq2seq")
