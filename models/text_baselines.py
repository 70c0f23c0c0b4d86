"""Bag of embeddings: the order-free text baseline (the "deep averaging network" of
Iyyer et al. 2015; fastText's classifier, Joulin et al. 2017).

Average the word embeddings of a sentence (padding excluded) and classify the mean.
Recurrent and convolutional models must beat it to show that word order helps.
"""

from __future__ import annotations

import keras

from models.registry import register_model
from models.sequence_common import classifier_head, pool, sequence_inputs


@register_model("bag_of_embeddings", task="sequence")
def bag_of_embeddings(
    *,
    input_shape: tuple[int | None, ...],
    num_classes: int,
    vocab_size: int | None = None,
    embedding_dim: int = 64,
    hidden: int = 0,
    dropout: float = 0.0,
) -> keras.Model:
    """Mean of the token embeddings (padding ignored), optional hidden layer, logits.

    Args:
        hidden: units of a ReLU layer on the mean (0: a linear classifier on it).
        dropout: before the logits.
    """
    inputs, x, mask = sequence_inputs(input_shape, vocab_size, embedding_dim)
    outputs = classifier_head(pool(x, mask, "mean"), num_classes, dropout, hidden)
    return keras.Model(inputs, outputs, name="bag_of_embeddings")
