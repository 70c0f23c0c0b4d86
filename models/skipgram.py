"""Skip-gram word2vec with negative sampling (Mikolov et al. 2013, "Distributed
representations of words and phrases and their compositionality").

Each word has an input vector w (the word embedding kept afterwards) and an output
vector c. For a (target, context) pair seen in the corpus the model scores the true
context against `num_negatives` words drawn from the unigram^0.75 distribution:
logits = w_target . c_j, trained with softmax cross-entropy so the true context
(index 0) wins. The lecture's P(w_{t+d} | w_t) ~ exp(w_{t+d}^T w_t), made cheap.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from models.registry import register_model


@register_model("skipgram", task="skipgram")
def skipgram(*, vocab_size: int, num_negatives: int, embedding_dim: int = 100) -> keras.Model:
    """Inputs {"target": [B], "context": [B, 1 + num_negatives]}; logits [B, 1 + num_negatives].

    Args:
        embedding_dim: size of the word vectors.
    """
    target = keras.Input((), dtype="int32", name="target")
    context = keras.Input((1 + num_negatives,), dtype="int32", name="context")
    w = layers.Embedding(vocab_size, embedding_dim, name="word_embedding")(target)
    c = layers.Embedding(vocab_size, embedding_dim, name="context_embedding")(context)
    logits = ops.einsum("bd,bkd->bk", w, c)
    return keras.Model({"target": target, "context": context}, logits, name="skipgram")
