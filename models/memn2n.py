"""End-to-end memory network (Sukhbaatar, Szlam, Weston & Fergus 2015, "End-To-End
Memory Networks"), for question answering over stories (bAbI, Weston et al. 2015).

The lecture's loop of reasoning: each hop compares the question state u with every
memory (a story sentence) m_i, takes the soft argmax p = softmax(u . m_i), reads
o = sum_i p_i c_i and updates u <- u + o. Sentences are bags of words weighted by the
position encoding l_kj = (1 - j/J) - (k/d)(1 - 2j/J); a learned temporal encoding
per memory slot tells recent sentences from old ones (the latest sentence is in the
last slot). Adjacent weight tying: A_{k+1} = C_k and B = A_1. The answer is a softmax
over the answer words seen in training (the paper ties this layer to C_K over the whole
vocabulary; here it is its own Dense layer). Empty memory slots are masked.
"""

from __future__ import annotations

from typing import Literal

import keras
import numpy as np
from keras import layers, ops

from models.registry import register_model


class TemporalEncoding(layers.Layer):
    """Adds a learned vector per memory slot: [B, M, d] + T[M, d]."""


    def build(self, input_shape):
        self.table = self.add_weight(
            shape=tuple(input_shape[1:]),
            initializer=keras.initializers.RandomNormal(stddev=0.1),
            name="table",
        )

    def call(self, x):
        return x + self.table

    def compute_output_shape(self, input_shape):
        return input_shape


def position_weights(length: int, dim: int) -> np.ndarray:
    """l_kj = (1 - j/J) - (k/d)(1 - 2j/J), j and k counted from 1: [J, d]."""
    j = np.arange(1, length + 1)[:, None] / length
    k = np.arange(1, dim + 1)[None, :] / dim
    return ((1 - j) - k * (1 - 2 * j)).astype("float32")


def _bag(ids, embedding: layers.Embedding, weights):
    """Sum of a sentence's word vectors (padding zeroed), position weighted: [..., d]."""
    e = embedding(ids) * ops.expand_dims(ops.cast(ops.not_equal(ids, 0), "float32"), -1)
    return ops.sum(e * weights, axis=-2)


@register_model("memn2n", task="qa")
def memn2n(
    *,
    vocab_size: int,
    num_classes: int,
    memory_size: int,
    sentence_length: int,
    embedding_dim: int = 20,
    hops: int = 3,
    position_encoding: bool = True,
    temporal_encoding: bool = True,
    tying: Literal["adjacent", "layerwise"] = "adjacent",
) -> keras.Model:
    """Inputs {"story": [B, M, J], "question": [B, J]} token ids; answer logits.

    Args:
        embedding_dim: d, the size of memory and question vectors (20 in the paper).
        hops: K memory reads.
        position_encoding: position-weighted bags of words (else plain bags).
        temporal_encoding: learned per-slot vectors added to memories.
        tying: "adjacent" (A_{k+1} = C_k, B = A_1) or "layerwise" (one A and one C for
            all hops, u <- H u + o).
    """
    story = keras.Input((memory_size, sentence_length), dtype="int32", name="story")
    question = keras.Input((sentence_length,), dtype="int32", name="question")
    weights = (
        position_weights(sentence_length, embedding_dim) if position_encoding
        else np.ones((sentence_length, embedding_dim), "float32")
    )
    n_tables = hops + 1 if tying == "adjacent" else 3
    tables = [layers.Embedding(vocab_size, embedding_dim, name=f"embed{i}",
                               embeddings_initializer=keras.initializers.RandomNormal(stddev=0.1))
              for i in range(n_tables)]
    times = [TemporalEncoding(name=f"temporal{i}")
             for i in range(n_tables)] if temporal_encoding else [None] * n_tables
    slot_mask = ops.any(ops.not_equal(story, 0), axis=-1)  # empty slots: padding
    u = _bag(question, tables[0 if tying == "adjacent" else 2], weights)
    h = layers.Dense(embedding_dim, use_bias=False, name="h") if tying == "layerwise" else None

    def memories(i):
        m = _bag(story, tables[i], weights)
        return times[i](m) if times[i] is not None else m

    for k in range(hops):
        a, c = (k, k + 1) if tying == "adjacent" else (0, 1)
        scores = ops.einsum("bmd,bd->bm", memories(a), u)
        p = layers.Softmax(name=f"hop{k + 1}_attention")(scores, mask=slot_mask)
        o = ops.einsum("bm,bmd->bd", p, memories(c))
        u = (h(u) if h is not None else u) + o
    logits = layers.Dense(num_classes, name="logits")(u)
    return keras.Model({"story": story, "question": question}, logits, name="memn2n")
