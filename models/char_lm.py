"""Character-level language model (Karpathy 2015, "The unreasonable effectiveness of
recurrent neural networks"; Graves 2013, "Generating sequences with RNNs").

Many-to-many training: at every step the network predicts the next token of its input
window. Generation is one-to-many: from a prompt (or just a line break) it samples one
token at a time, feeding each back in, with a temperature that trades variety for
fidelity (`pipelines.tasks.sequence.generate`). Outputs are next-token logits.
"""

from __future__ import annotations

from typing import Literal

import keras

from models.registry import register_model


@register_model("char_lm", task="language_model")
def char_lm(
    *,
    vocab_size: int,
    cell: Literal["lstm", "gru"] = "lstm",
    units: int = 256,
    layers: int = 1,
    embedding_dim: int = 32,
    dropout: float = 0.0,
) -> keras.Model:
    """Embedding, stacked LSTM/GRU layers returning every step, next-token logits.

    Args:
        cell: "lstm" or "gru".
        units: state size of each recurrent layer.
        layers: stacked recurrent layers.
        dropout: between layers and before the logits.
    """
    rnn = keras.layers.LSTM if cell == "lstm" else keras.layers.GRU
    inputs = keras.Input((None,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(vocab_size, embedding_dim, mask_zero=True, name="embedding")(inputs)
    for i in range(1, layers + 1):
        x = rnn(units, return_sequences=True, name=f"{cell}{i}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout{i}")(x)
    outputs = keras.layers.Dense(vocab_size, name="logits")(x)
    return keras.Model(inputs, outputs, name="char_lm")
