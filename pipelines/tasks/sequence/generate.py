"""One-to-many generation from a trained `char_lm`: prompt in, sampled tokens out.

The recurrent layers' cells are stepped one token at a time (the state carries the
whole history, so generation is not limited to the training window). Prompts are
left-padded; a padded step leaves the state unchanged. Sampling divides the logits by
the temperature (0 = always the most likely token) and draws with TensorFlow's
stateless sampler, so one seed gives the same text eagerly and in an exported model.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from pipelines.data.text import Vocabulary


def _parts(model: keras.Model):
    rnns = [layer for layer in model.layers if isinstance(layer, keras.layers.RNN)]
    return model.get_layer("embedding"), [r.cell for r in rnns], model.get_layer("logits")


def start_id(vocab: Vocabulary) -> int:
    """What an empty prompt starts from: the line break (corpora join lines with it)."""
    return vocab.tokens.index("\n") if "\n" in vocab.tokens else 1


def left_align(dense: tf.Tensor, lengths: tf.Tensor) -> tf.Tensor:
    """Right-padded [B, P] with row lengths -> the same rows padded on the left."""
    width = tf.shape(dense)[1]
    shift = tf.expand_dims(width - tf.cast(lengths, tf.int32), 1)
    index = tf.range(width)[None, :] - shift
    taken = tf.gather(dense, tf.maximum(index, 0), batch_dims=1)
    return tf.where(index >= 0, taken, tf.zeros_like(taken))


def prompt_ids(vectorizer, prompts, start: int) -> tf.Tensor:
    """Strings -> left-padded ids; an empty prompt becomes the start token."""
    ragged = tf.cast(vectorizer(prompts), tf.int32)
    lengths = ragged.row_lengths()
    starter = tf.fill([tf.shape(lengths)[0], 1], start)
    dense = tf.concat([ragged.to_tensor(), tf.zeros_like(starter)], axis=1)
    dense = tf.where(tf.expand_dims(lengths > 0, 1), dense,
                     tf.concat([starter, tf.zeros_like(dense[:, 1:])], axis=1))
    return left_align(dense, tf.maximum(lengths, 1))


def generate_ids(
    model: keras.Model, prompts: tf.Tensor, *, length: int, temperature: float, seed: int
) -> tuple[tf.Tensor, tf.Tensor]:
    """Continue left-padded prompts [B, P] by `length` tokens.

    Returns:
        (generated ids [B, length], mean log-probability of the chosen tokens [B]).
    """
    embedding, cells, head = _parts(model)
    batch, width = tf.shape(prompts)[0], tf.shape(prompts)[1]
    states = [_as_list(cell.get_initial_state(batch_size=batch)) for cell in cells]
    out = tf.TensorArray(tf.int32, size=length)
    logp_sum = tf.zeros([batch])
    never = tf.constant([-1e9, -1e9] + [0.0] * (head.units - 2))

    def body(t, token, states, out, logp_sum):
        fed = tf.where(t < width, prompts[:, tf.minimum(t, width - 1)], token)
        active = tf.expand_dims(fed != 0, -1)
        x = tf.gather(embedding.embeddings, fed)  # the layer would attach a padding mask
        new_states = []
        for cell, state in zip(cells, states):
            h, new = cell(x, state, training=False)
            new_states.append([tf.where(active, n, s) for n, s in zip(_as_list(new), state)])
            x = h
        logp = tf.nn.log_softmax(head(x) + never)  # never emit padding or [UNK]
        nxt = _sample(logp, temperature, seed, t)
        emit = t >= width - 1
        chosen = tf.gather(logp, nxt, batch_dims=1)
        out = tf.cond(emit, lambda: out.write(t - width + 1, nxt), lambda: out)
        logp_sum = logp_sum + tf.where(emit, chosen, 0.0)
        return t + 1, nxt, new_states, out, logp_sum

    _, _, _, out, logp_sum = tf.while_loop(
        lambda t, *_: t < width + length - 1,
        body,
        (tf.constant(0), tf.zeros([batch], tf.int32), states, out, logp_sum),
    )
    return tf.transpose(out.stack()), logp_sum / length


def _as_list(state) -> list:
    return list(state) if isinstance(state, (list, tuple)) else [state]


def _sample(logp: tf.Tensor, temperature: float, seed: int, t: tf.Tensor) -> tf.Tensor:
    if temperature <= 0:
        return tf.argmax(logp, axis=-1, output_type=tf.int32)
    draw = tf.random.stateless_categorical(logp / temperature, 1, seed=tf.stack([seed, t]))
    return tf.cast(draw[:, 0], tf.int32)


def generate_text(
    model: keras.Model,
    vocab: Vocabulary,
    prompts: list[str],
    *,
    length: int,
    temperature: float,
    seed: int = 0,
) -> list[str]:
    """Prompts continued by `length` sampled tokens (eagerly, for reports)."""
    layer = vocab.layer(ragged=True)
    ids = prompt_ids(layer, tf.constant(np.array(prompts, dtype=object).astype(str)),
                     start_id(vocab))
    run = tf.function(lambda p: generate_ids(model, p, length=length,
                                             temperature=temperature, seed=seed))
    out, _ = run(ids)
    return [vocab.join(row) for row in out.numpy()]
