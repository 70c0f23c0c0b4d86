"""Examples cut from a raw corpus: next-token windows (language models) or skip-gram
pairs with negative samples (word2vec, Mikolov et al. 2013).

Keras 3 dropped `keras.preprocessing.sequence.skipgrams` and `make_sampling_table`,
so the pairs, the frequent-word subsampling and the unigram^0.75 negative sampling
of word2vec are written here in numpy (seeded, so a run is repeatable).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from common.errors import UserError
from pipelines.config.text import TextConfig
from pipelines.data.source import Split
from pipelines.data.text import Vocabulary, tokenize

SPLITS = ("train", "val", "test")
DEFAULT_WINDOW = 64


def corpus_arrays(
    raw: dict[str, Split], vocab: Vocabulary, text: TextConfig, seed: int
) -> tuple[dict[str, tuple[Any, np.ndarray]], dict[str, Any]]:
    """(arrays per split, DataSpec fields) for `data.text.examples`."""
    if text.examples == "skipgram":
        return _skipgram(raw, vocab, text, seed)
    return _next_token(raw, vocab, text)


def token_stream(lines: np.ndarray, vocab: Vocabulary) -> np.ndarray:
    """All lines as one id stream; characters keep the line breaks as a token."""
    if vocab.level == "char":
        joined = "\n".join(str(line) for line in lines) + "\n"
        return tokenize(np.array([joined], dtype=object), vocab)[0]
    seqs = tokenize(lines, vocab)
    return np.concatenate(seqs) if seqs else np.zeros(0, np.int32)


def windows(stream: np.ndarray, length: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs stream[i:i+L] and next-token targets stream[i+1:i+L+1]."""
    starts = np.arange(0, len(stream) - length, stride)
    index = starts[:, None] + np.arange(length)[None, :]
    return stream[index].astype(np.int32), stream[index + 1].astype(np.int32)


def _next_token(raw, vocab: Vocabulary, text: TextConfig):
    length = text.sequence_length or DEFAULT_WINDOW
    stride = text.stride or length
    arrays = {}
    for name in SPLITS:
        stream = token_stream(raw[name].x, vocab)
        x, y = windows(stream, length, stride)
        if not len(x):
            raise UserError(
                f"data: the {name} split has {len(stream)} tokens, too few for one window of "
                f"data.text.sequence_length={length} (+1); lower it or give more text"
            )
        arrays[name] = (x, y)
    fields = dict(
        task="language_model",
        input_shape=(length,),
        target_shape=(length,),
        input_range=(0.0, float(len(vocab) - 1)),
        extra={"vocab_size": len(vocab), "sequence_length": length},
    )
    return arrays, fields


def keep_probabilities(counts: np.ndarray, t: float) -> np.ndarray:
    """word2vec's subsampling: keep a word of frequency f with p = (sqrt(f/t) + 1) t/f."""
    freq = counts / max(counts.sum(), 1)
    if t <= 0:
        return np.ones_like(freq)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = (np.sqrt(freq / t) + 1) * t / freq
    return np.nan_to_num(np.minimum(p, 1.0), nan=1.0)


def skipgram_pairs(
    seqs: list[np.ndarray],
    *,
    window: int,
    negatives: int,
    keep: np.ndarray,
    noise: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """(targets [N], contexts [N, 1 + negatives]): the true context first, then
    words drawn from the `noise` distribution. Padding and [UNK] never take part."""
    targets, contexts = [], []
    for seq in seqs:
        seq = seq[(seq > 1) & (rng.random(len(seq)) < keep[seq])]
        for offset in range(1, window + 1):
            if len(seq) > offset:
                targets += [seq[:-offset], seq[offset:]]
                contexts += [seq[offset:], seq[:-offset]]
    if not targets:
        return np.zeros(0, np.int32), np.zeros((0, 1 + negatives), np.int32)
    t, c = np.concatenate(targets), np.concatenate(contexts)
    drawn = rng.choice(len(noise), size=(len(t), negatives), p=noise)
    return t.astype(np.int32), np.concatenate([c[:, None], drawn], 1).astype(np.int32)


def _skipgram(raw, vocab: Vocabulary, text: TextConfig, seed: int):
    if vocab.level != "word":
        raise UserError("data.text.examples: skipgram needs data.text.level: word")
    rng = np.random.default_rng(seed)
    seqs = {name: tokenize(raw[name].x, vocab) for name in SPLITS}
    counts = np.bincount(np.concatenate(seqs["train"]), minlength=len(vocab))
    counts[:2] = 0  # padding and [UNK] are never targets, contexts or noise
    noise = counts.astype(np.float64) ** 0.75
    noise /= noise.sum()
    arrays = {}
    for name in SPLITS:
        keep = keep_probabilities(counts, text.subsample if name == "train" else 0.0)
        t, c = skipgram_pairs(
            seqs[name], window=text.window, negatives=text.negatives, keep=keep, noise=noise,
            rng=rng,
        )
        if not len(t):
            raise UserError(f"data: the {name} split gives no skip-gram pairs (too little text)")
        arrays[name] = ({"target": t, "context": c}, np.zeros(len(t), np.int64))
    fields = dict(
        task="skipgram",
        input_shape=(),
        input_range=(0.0, float(len(vocab) - 1)),
        extra={"vocab_size": len(vocab), "num_negatives": text.negatives,
               "counts": counts.tolist()},
    )
    return arrays, fields
