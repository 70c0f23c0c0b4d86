"""Exported text models: raw strings in, a class or a decoded string out.

Each wrapper carries the vectorization (a TextVectorization layer rebuilt from the
vocabulary fitted on the training split) in front of the trained network, and the
detokenization behind it, so the SavedModel needs no Python code to serve. They are
written by `pipelines.export.saved_model.export_model` (reload-checked in a fresh process). The
wrappers are Keras layers, not Models: saving a subclassed Model also traces Keras'
float32 default signature, which string code cannot take.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from common import report
from models.seq2seq_decode import decode
from pipelines.data.text import END, START, Vocabulary
from pipelines.export.saved_model import export_model, run_metadata
from pipelines.report.metrics import record
from pipelines.tasks.sequence.generate import generate_ids, prompt_ids, start_id


def detokenize(vocab: Vocabulary, ids: tf.Tensor) -> tf.Tensor:
    """[B, L] ids -> [B] strings; padding and [start]/[end] dropped."""
    tokens = ["" if t in ("", START, END) else t for t in vocab.tokens]
    words = tf.gather(tf.constant(tokens), tf.cast(ids, tf.int32))
    if vocab.level == "char":
        return tf.strings.reduce_join(words, axis=-1)
    joined = tf.strings.reduce_join(words, axis=-1, separator=" ")
    return tf.strings.strip(tf.strings.regex_replace(joined, " +", " "))


class TextClassifier(keras.layers.Layer):
    """strings -> token ids (fixed length) -> the trained classifier's logits."""

    def __init__(self, vocab: Vocabulary, model: keras.Model, length: int, **kwargs):
        super().__init__(**kwargs)
        self.vectorizer = vocab.layer(sequence_length=length, name="vectorize")
        self.model = model

    def call(self, texts, training=False):
        return self.model(self.vectorizer(texts), training=False)


class Translator(keras.layers.Layer):
    """strings -> source ids -> greedy or beam decoding -> target strings."""

    def __init__(self, source: Vocabulary, target: dict, model: keras.Model, *,
                 length: int, steps: int, method: str, beam_width: int,
                 length_penalty: float, **kwargs):
        super().__init__(**kwargs)
        self.vectorizer = source.layer(sequence_length=length, name="vectorize")
        self.target = Vocabulary.from_dict(target)
        self.ids = (target["start_id"], target["end_id"])
        self.model = model
        self.options = dict(method=method, beam_width=beam_width, max_length=steps,
                            length_penalty=length_penalty)

    def call(self, texts, training=False):
        ids = tf.cast(self.vectorizer(texts), tf.int32)
        out = decode(self.model, ids, start_id=self.ids[0], end_id=self.ids[1], **self.options)
        n = tf.maximum(tf.reduce_sum(tf.cast(out.tokens != 0, tf.float32), -1), 1.0)
        return {"text": detokenize(self.target, out.tokens), "confidence": tf.exp(out.scores / n)}


class Generator(keras.layers.Layer):
    """prompt strings -> `length` sampled tokens -> continuation strings."""

    def __init__(self, vocab: Vocabulary, model: keras.Model, *, length: int,
                 temperature: float, seed: int, **kwargs):
        super().__init__(**kwargs)
        self.vocab, self.model = vocab, model
        self.vectorizer = vocab.layer(ragged=True, name="vectorize")
        self.settings = dict(length=length, temperature=temperature, seed=seed)

    def call(self, texts, training=False):
        prompts = prompt_ids(self.vectorizer, texts, start_id(self.vocab))
        ids, mean_logp = generate_ids(self.model, prompts, **self.settings)
        return {"text": detokenize(self.vocab, ids), "confidence": tf.exp(mean_logp)}


class WordVectors(keras.layers.Layer):
    """words -> their skip-gram vectors and nearest neighbours (cosine)."""

    def __init__(self, vocab: Vocabulary, vectors: np.ndarray, k: int, **kwargs):
        super().__init__(**kwargs)
        self.vocab = vocab
        self.vectorizer = vocab.layer(sequence_length=1, name="vectorize")
        unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
        unit[:2] = 0.0  # padding and [UNK] are nobody's neighbours
        self.unit = tf.constant(unit.astype("float32"))
        self.vectors = tf.constant(vectors.astype("float32"))
        self.k = k

    def call(self, texts, training=False):
        ids = tf.cast(self.vectorizer(texts)[:, 0], tf.int32)
        sims = tf.matmul(tf.gather(self.unit, ids), self.unit, transpose_b=True)
        sims = tf.where(tf.one_hot(ids, tf.shape(self.unit)[0]) > 0, -2.0, sims)
        top = tf.math.top_k(sims, self.k)
        return {"text": detokenize(self.vocab, top.indices), "confidence": top.values[:, 0],
                "embedding": tf.gather(self.vectors, ids)}


class StoryQA(keras.layers.Layer):
    """'sentence. sentence. question?' -> memory and question ids -> answer logits.

    Sentences are split after . ? ! (or at line breaks); the last is the question,
    the others fill the memory, latest last, as in training.
    """

    def __init__(self, vocab: Vocabulary, model: keras.Model, *, memory: int, width: int,
                 **kwargs):
        super().__init__(**kwargs)
        self.vectorizer = vocab.layer(sequence_length=width, name="vectorize")
        self.model, self.memory, self.width = model, memory, width

    def call(self, texts, training=False):
        marked = tf.strings.regex_replace(tf.strings.strip(texts), r"([.?!])\s+", "\\1\n")
        sentences = tf.strings.split(marked, "\n")
        ids = tf.RaggedTensor.from_row_lengths(
            tf.cast(self.vectorizer(sentences.flat_values), tf.int32), sentences.row_lengths()
        )
        count = ids.row_lengths() - 1
        question = tf.gather(ids.flat_values, ids.row_starts() + count)
        story = tf.ragged.boolean_mask(
            ids, tf.ragged.range(ids.row_lengths()) < tf.expand_dims(count, 1))
        dense = story.to_tensor(shape=[None, None, self.width])
        kept = tf.minimum(count, self.memory)
        index = tf.range(self.memory)[None, :] - (self.memory - tf.cast(kept, tf.int32))[:, None]
        index = index + tf.cast(count - kept, tf.int32)[:, None]  # the latest `memory` ones
        padded = tf.pad(dense, [[0, 0], [0, self.memory], [0, 0]])
        memory = tf.gather(padded, tf.maximum(index, 0), batch_dims=1)
        memory = tf.where((index >= tf.cast(count - kept, tf.int32)[:, None])[..., None],
                          memory, tf.zeros_like(memory))
        return self.model({"story": memory, "question": question}, training=False)


def export_text(
    run,
    serving: keras.Model,
    samples: list[str],
    *,
    outputs: Callable[[Any], dict] = lambda out: out,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write `serving` (strings in) as a reload-checked SavedModel of the run."""

    cfg = run.cfg
    samples_array = np.array([str(s) for s in samples])
    serving(tf.constant(samples_array))  # builds the wrapper before it is tracked
    spec = dataclasses.replace(run.bundle.spec, input_shape=(), raw_dtype="string")
    root = Path(cfg.export.dir) / (cfg.export.name or cfg.name)
    path = export_model(
        serving,
        spec,
        root=root,
        outputs=outputs,
        sample=samples_array,
        tolerance=cfg.export.tolerance,
        metadata={
            **run_metadata(run),
            "text": {"input": "one string per example", **(metadata or {})},
        },
    )
    record(run, {"export_path": str(path)})
    report.section(
        run.run_dir,
        "export",
        f"## Export\nSavedModel written to `{path}`: signature `serve` takes raw strings "
        "(the vectorization fitted on the training split is inside) "
        f"and passed the reload check in a fresh process (tolerance {cfg.export.tolerance}). "
        f"Try `dlzoo predict --model {root} --text \"{samples[0]}\"`.\n",
    )
    return path
