"""Recurrent classifiers (many-to-one): Elman's simple RNN (Elman 1990), LSTM
(Hochreiter & Schmidhuber 1997) and GRU (Cho et al. 2014).

The lecture's unfolding: h(t) = g(V h(t-1) + U x(t)), trained by back-propagation
through time; LSTM and GRU add gates so gradients survive long sequences. Inputs are
token ids (embedded, padding masked: the final state is the one after the last real
token) or numeric sequences (steps, features) such as MNIST-1D; outputs are logits.
"""

from __future__ import annotations

from typing import Literal

import keras

from models.registry import register_model
from models.sequence_common import Pooling, classifier_head, pool, sequence_inputs

Cell = Literal["simple", "lstm", "gru"]
CELLS = {"simple": keras.layers.SimpleRNN, "lstm": keras.layers.LSTM, "gru": keras.layers.GRU}


def _recurrent(
    *,
    name: str,
    cell: str,
    input_shape: tuple[int | None, ...],
    num_classes: int,
    vocab_size: int | None,
    embedding_dim: int,
    units: int,
    layers: int,
    bidirectional: bool,
    dropout: float,
    recurrent_dropout: float,
    pooling: str,
    hidden: int,
) -> keras.Model:
    inputs, x, mask = sequence_inputs(input_shape, vocab_size, embedding_dim)
    for i in range(1, layers + 1):
        last = i == layers and pooling == "last"
        rnn = CELLS[cell](
            units,
            return_sequences=not last,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            name=f"{cell}{i}",
        )
        if bidirectional:
            rnn = keras.layers.Bidirectional(rnn, name=f"bi{cell}{i}")
        x = rnn(x, mask=mask)
    if pooling != "last":
        x = pool(x, mask, pooling)
    outputs = classifier_head(x, num_classes, dropout, hidden)
    return keras.Model(inputs, outputs, name=name)


@register_model("rnn", task="sequence")
def rnn(
    *,
    input_shape: tuple[int | None, ...],
    num_classes: int,
    vocab_size: int | None = None,
    cell: Cell = "simple",
    units: int = 64,
    layers: int = 1,
    bidirectional: bool = False,
    dropout: float = 0.0,
    recurrent_dropout: float = 0.0,
    embedding_dim: int = 64,
    pooling: Pooling = "last",
    hidden: int = 0,
) -> keras.Model:
    """Recurrent classifier; `cell` picks simple RNN, LSTM or GRU (search spaces use it).

    Args:
        units: state size of every recurrent layer.
        layers: stacked recurrent layers (each feeds its sequence to the next).
        bidirectional: read the sequence both ways and concatenate.
        dropout: on each layer's inputs and before the classifier.
        recurrent_dropout: on the recurrent connections (no cuDNN kernel then).
        embedding_dim: token embedding size (token inputs only).
        pooling: "last" state, "mean"/"max" over steps (padding ignored), or "flatten"
            every step's output (fixed-length inputs, as the MNIST-1D paper's GRU).
        hidden: units of a ReLU layer before the logits (0: none).
    """
    return _recurrent(name="rnn", **locals())


@register_model("lstm", task="sequence")
def lstm(
    *,
    input_shape: tuple[int | None, ...],
    num_classes: int,
    vocab_size: int | None = None,
    units: int = 64,
    layers: int = 1,
    bidirectional: bool = False,
    dropout: float = 0.0,
    recurrent_dropout: float = 0.0,
    embedding_dim: int = 64,
    pooling: Pooling = "last",
    hidden: int = 0,
) -> keras.Model:
    """LSTM classifier (stacked, bidirectional, dropout, masking); arguments as `rnn`."""
    return _recurrent(name="lstm", cell="lstm", **locals())


@register_model("gru", task="sequence")
def gru(
    *,
    input_shape: tuple[int | None, ...],
    num_classes: int,
    vocab_size: int | None = None,
    units: int = 64,
    layers: int = 1,
    bidirectional: bool = False,
    dropout: float = 0.0,
    recurrent_dropout: float = 0.0,
    embedding_dim: int = 64,
    pooling: Pooling = "last",
    hidden: int = 0,
) -> keras.Model:
    """GRU classifier (stacked, bidirectional, dropout, masking); arguments as `rnn`."""
    return _recurrent(name="gru", cell="gru", **locals())
