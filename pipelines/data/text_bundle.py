"""Build train/val/test pipelines for text sources, in the `DataBundle` shape.

source -> split (seeded; stratified for labels) -> vocabulary fitted on train ->
ids, length limit (truncate with a counted warning, or refuse) -> padding -> cache
-> shuffle (train) -> batch, or bucket by length -> prefetch(AUTOTUNE)

What a task's model needs (vocabulary sizes, lengths, the vocabularies themselves)
goes into `DataSpec.extra`; builders receive the entries their signature names.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import tensorflow as tf

from common.errors import UserError
from pipelines.config.data import DataConfig
from pipelines.config.text import TextConfig
from pipelines.data.bundle import DataBundle
from pipelines.data.epochs import EpochOrder
from pipelines.data.source import SourceData, Split
from pipelines.data.spec import DataSpec
from pipelines.data.splits import in_memory_splits
from pipelines.data.text import (
    END,
    START,
    Vocabulary,
    fit_vocabulary,
    limit_length,
    longest,
    pad,
    tokenize,
)
from pipelines.data.text_examples import corpus_arrays

AUTOTUNE = tf.data.AUTOTUNE
SPLITS = ("train", "val", "test")


def build_text(source: SourceData, cfg: DataConfig, *, seed: int):
    """The bundle of a text source (labelled lines, pairs, corpus or stories)."""
    if cfg.image_size or cfg.color_mode != "keep" or cfg.augment:
        raise UserError(
            f"data.image_size / color_mode / augment apply to images; {cfg.source!r} is text"
        )
    text = cfg.text or TextConfig()
    raw = in_memory_splits(source, cfg, seed)
    kinds = {"classify": _labelled, "seq2seq": _pairs, "corpus": _corpus, "qa": _stories}
    if source.task not in kinds:
        raise UserError(f"data source {cfg.source!r}: no text pipeline for task {source.task!r}")
    with warnings.catch_warnings(record=True) as caught:  # counted truncations, kept
        warnings.simplefilter("always")
        arrays, spec_fields, bucket = kinds[source.task](raw, text, seed)
    for warning in caught:
        warnings.warn(str(warning.message), warning.category, stacklevel=2)
    spec_fields["extra"]["notes"] = [str(w.message) for w in caught]
    class_names = source.class_names
    if cfg.classes is not None:
        class_names = [source.class_names[c] for c in cfg.classes]
    spec = DataSpec(
        raw_dtype="string",
        class_names=tuple(class_names),
        normalize="none",
        sizes={name: len(arrays[name][1]) for name in SPLITS},
        source=cfg.source,
        file_based=source.file_based,
        skipped=tuple(source.skipped),
        **spec_fields,
    )
    order = EpochOrder(seed)
    datasets = {
        name: batched(*arrays[name], split=name, cfg=cfg, order=order, bucket=bucket)
        for name in SPLITS
    }
    return DataBundle(spec=spec, raw=raw, order=order, **datasets)


def batched(
    x: Any, y: np.ndarray, *, split: str, cfg: DataConfig, order: EpochOrder, bucket: str | None
) -> tf.data.Dataset:
    """cache -> shuffle (train) -> batch or bucket by length -> prefetch.

    `bucket` names the x entry (or "" for x itself) whose zero-padding is trimmed
    and re-padded per batch, grouped by `data.text.bucket_boundaries`.
    """
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if cfg.cache:
        ds = ds.cache()
    if split == "train":
        ds = order.shuffled(ds, max(len(y), 1))  # in memory: in full, every epoch
    bounds = (cfg.text or TextConfig()).bucket_boundaries
    if bounds and bucket is not None:
        ds = ds.map(lambda a, b: (_trim(a, bucket), b), num_parallel_calls=AUTOTUNE,
                    deterministic=cfg.deterministic)
        ds = ds.bucket_by_sequence_length(
            lambda a, b: tf.shape(a[bucket] if bucket else a)[0],
            bucket_boundaries=bounds,
            bucket_batch_sizes=[cfg.batch_size] * (len(bounds) + 1),
        )
    else:
        ds = ds.batch(cfg.batch_size)
    options = tf.data.Options()
    options.deterministic = cfg.deterministic
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.with_options(options).prefetch(AUTOTUNE)


def _trim(x, key: str):
    """Drop the trailing padding of one sequence (so a batch pads to its own longest)."""
    seq = x[key] if key else x
    n = tf.maximum(tf.reduce_sum(tf.cast(seq != 0, tf.int32)), 1)  # padding is at the end
    if not key:
        return seq[:n]
    return {**x, key: seq[:n]}


def _sides(raw: dict[str, Split], vocab: Vocabulary, text: TextConfig, *, length=None,
           policy_what: str) -> tuple[dict[str, np.ndarray], int]:
    """Token ids of x per split, limited to the length fitted on train, padded."""
    ids = {name: tokenize(raw[name].x, vocab) for name in SPLITS}
    max_len = longest(ids["train"], length)
    out = {}
    for name in SPLITS:
        seqs, _ = limit_length(ids[name], max_len, policy=text.too_long,
                               what=f"{policy_what} ({name} split)")
        out[name] = pad(seqs, max_len)
    return out, max_len


def _vocab(texts: np.ndarray, text: TextConfig, side: str, what: str) -> Vocabulary:
    return fit_vocabulary(
        texts,
        level=text.level_for(side),
        standardize=text.standardize_for(side),
        max_tokens=text.max_tokens if side == "source" else text.target_max_tokens,
        min_coverage=text.min_coverage,
        what=what,
    )


def _labelled(raw, text: TextConfig, seed: int):
    vocab = _vocab(raw["train"].x, text, "source", "data.text (training sentences)")
    x, length = _sides(raw, vocab, text, length=text.sequence_length,
                       policy_what="data.text.sequence_length")
    arrays = {name: (x[name], raw[name].y) for name in SPLITS}
    shape = (None,) if text.bucket_boundaries else (length,)
    fields = dict(
        task="classify",
        input_shape=shape,
        input_range=(0.0, float(len(vocab) - 1)),
        extra={"vocab_size": len(vocab), "sequence_length": length, "text": vocab.as_dict()},
    )
    return arrays, fields, ""


def _pairs(raw, text: TextConfig, seed: int):
    src_vocab = _vocab(raw["train"].x, text, "source", "data.text (source sentences)")
    tgt_words = _vocab(raw["train"].y, text, "target", "data.text.target_* (target sentences)")
    tgt_vocab = Vocabulary(tgt_words.level, tgt_words.standardize,
                           (*tgt_words.tokens, START, END))
    start, end = len(tgt_vocab) - 2, len(tgt_vocab) - 1
    src, length = _sides(raw, src_vocab, text, length=text.sequence_length,
                         policy_what="data.text.sequence_length (sources)")
    tgt = {name: tokenize(raw[name].y, tgt_vocab) for name in SPLITS}
    max_tgt = longest(tgt["train"], text.target_sequence_length)
    arrays = {}
    for name in SPLITS:
        seqs, _ = limit_length(tgt[name], max_tgt, policy=text.too_long,
                               what=f"data.text.target_sequence_length ({name} split)")
        steps = max_tgt + 1  # [start] w1..wn  ->  w1..wn [end]
        target_in = pad([np.concatenate([[start], s]) for s in seqs], steps)
        target_out = pad([np.concatenate([s, [end]]) for s in seqs], steps)
        arrays[name] = ({"source": src[name], "target_in": target_in}, target_out)
    fields = dict(
        task="seq2seq",
        input_shape=(None,) if text.bucket_boundaries else (length,),
        input_range=(0.0, float(len(src_vocab) - 1)),
        target_shape=(max_tgt + 1,),
        extra={
            "vocab_size": len(src_vocab),
            "target_vocab_size": len(tgt_vocab),
            "sequence_length": length,
            "target_sequence_length": max_tgt + 1,
            "text": src_vocab.as_dict(),
            "target_text": {**tgt_vocab.as_dict(), "start_id": start, "end_id": end},
        },
    )
    return arrays, fields, "source"


def _corpus(raw, text: TextConfig, seed: int):
    lines = raw["train"].x
    if text.level == "char":  # the stream joins lines with '\n': a token to learn
        lines = np.array([f"{line}\n" for line in lines], dtype=object)
    vocab = _vocab(lines, text, "source", "data.text (training corpus)")
    arrays, fields = corpus_arrays(raw, vocab, text, seed)
    fields["extra"]["text"] = vocab.as_dict()
    return arrays, fields, None


def _stories(raw, text: TextConfig, seed: int):
    """bAbI: memory [M sentences x J words] (latest sentence last) and a question [J]."""
    train = raw["train"]
    vocab = _vocab(np.concatenate([train.x, train.extras["question"]]), text, "source",
                   "data.text (training stories)")
    parts = {}
    for name in SPLITS:  # every sentence of a split in one tokenizer call
        sentences = _story_sentences(raw[name].x)
        flat = np.array([s for story in sentences for s in story], dtype=object)
        parts[name] = (tokenize(flat, vocab), [len(s) for s in sentences],
                       tokenize(raw[name].extras["question"], vocab))
    width = longest(parts["train"][0] + parts["train"][2], text.sequence_length)
    arrays = {}
    for name in SPLITS:
        flat, counts, questions = parts[name]
        flat, _ = limit_length(flat, width, policy=text.too_long,
                               what=f"data.text.sequence_length ({name} story sentences)")
        questions, _ = limit_length(questions, width, policy=text.too_long,
                                    what=f"data.text.sequence_length ({name} questions)")
        rows = np.split(np.arange(len(flat)), np.cumsum(counts)[:-1]) if counts else []
        rows, _ = limit_length(rows, text.memory_size, policy=text.too_long, keep="end",
                               what=f"data.text.memory_size ({name} split, sentences per story)")
        sentences = pad(flat, width) if flat else np.zeros((0, width), np.int32)
        memory = np.zeros((len(counts), text.memory_size, width), np.int32)
        for i, kept in enumerate(rows):
            if len(kept):
                memory[i, text.memory_size - len(kept):] = sentences[kept]
        arrays[name] = ({"story": memory, "question": pad(questions, width)}, raw[name].y)
    fields = dict(
        task="qa",
        input_shape=(text.memory_size, width),
        input_range=(0.0, float(len(vocab) - 1)),
        extra={"vocab_size": len(vocab), "memory_size": text.memory_size,
               "sentence_length": width, "text": vocab.as_dict()},
    )
    return arrays, fields, None


def _story_sentences(stories: np.ndarray) -> list[list[str]]:
    return [[s for s in str(story).split("\n") if s.strip()] for story in stories]
