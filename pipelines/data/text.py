"""Text vectorization: standardize, split into words or characters, map to ids.

`keras.layers.TextVectorization` does the work, fitted (`adapt`) on the training split
only. Its vocabulary goes into the data spec (so `spec.json` and every export carry
it) and a layer rebuilt from that vocabulary vectorizes raw strings inside exported
models. Id 0 is padding (models mask it), id 1 is `[UNK]`.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from common.errors import UserError

PAD, UNK = "", "[UNK]"
START, END = "[start]", "[end]"
AUTOTUNE = tf.data.AUTOTUNE


def split_punctuation(text):
    """Lowercase, and make punctuation separate tokens ("va !" -> "va", "!").

    Keras' built-in modes can only strip punctuation; translation keeps it.
    """
    text = tf.strings.lower(text)
    text = tf.strings.regex_replace(text, r"([.,!?;:¿¡\"()])", r" \1 ")
    return tf.strings.strip(text)


def make_vectorizer(
    level: str,
    standardize: str,
    *,
    vocabulary: Sequence[str] | None = None,
    sequence_length: int | None = None,
    ragged: bool = False,
    name: str | None = None,
) -> keras.layers.TextVectorization:
    """A TextVectorization layer for word or character tokens."""
    modes = {"none": None, "lower_and_split_punctuation": split_punctuation}
    return keras.layers.TextVectorization(
        standardize=modes.get(standardize, standardize),
        split="character" if level == "char" else "whitespace",
        output_sequence_length=None if ragged else sequence_length,
        ragged=ragged,
        vocabulary=list(vocabulary) if vocabulary is not None else None,
        name=name,
    )


@dataclasses.dataclass(frozen=True)
class Vocabulary:
    """A fitted vocabulary and how text was cut into its tokens."""

    level: str
    standardize: str
    tokens: tuple[str, ...]  # tokens[0] = padding, tokens[1] = [UNK]

    def __len__(self) -> int:
        return len(self.tokens)

    def as_dict(self) -> dict[str, Any]:
        return {"level": self.level, "standardize": self.standardize, "vocabulary": self.tokens}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Vocabulary:
        return cls(data["level"], data["standardize"], tuple(data["vocabulary"]))

    def layer(self, sequence_length: int | None = None, ragged: bool = False, name=None):
        """A vectorizer using this vocabulary (special tokens excluded from the list)."""
        words = [t for t in self.tokens[2:] if t not in (START, END)]
        return make_vectorizer(
            self.level,
            self.standardize,
            vocabulary=words,
            sequence_length=sequence_length,
            ragged=ragged,
            name=name,
        )

    def join(self, ids: Sequence[int]) -> str:
        """Ids back to text (padding and special tokens dropped)."""
        skip = {0, *(i for i, t in enumerate(self.tokens) if t in (START, END))}
        tokens = [self.tokens[i] if i < len(self.tokens) else UNK for i in ids if i not in skip]
        return ("" if self.level == "char" else " ").join(tokens)


def fit_vocabulary(
    texts: np.ndarray,
    *,
    level: str,
    standardize: str,
    max_tokens: int | None,
    min_coverage: float,
    what: str,
) -> Vocabulary:
    """Adapt a vectorizer on `texts` (the training split) and check its coverage.

    Raises:
        UserError: the texts give no token, or the capped vocabulary leaves more than
            `1 - min_coverage` of the training tokens unknown.
    """
    layer = make_vectorizer(level, standardize, ragged=True)
    layer.adapt(tf.data.Dataset.from_tensor_slices(texts.astype(str)).batch(1024))
    full = [str(t) for t in layer.get_vocabulary()]
    if len(full) <= 2:
        raise UserError(f"{what}: the training texts contain no tokens after standardization")
    tokens = tuple(full[:max_tokens] if max_tokens else full)
    vocab = Vocabulary(level, standardize, tokens)
    ids = np.concatenate(tokenize(texts, vocab) or [np.zeros(0, np.int32)])
    coverage = float(np.mean(ids != 1)) if ids.size else 1.0
    if coverage < min_coverage:
        raise UserError(
            f"{what}: vocabulary too small for the data: max_tokens={max_tokens} keeps "
            f"{len(tokens)} of {len(full)} distinct tokens and covers only {coverage:.0%} "
            f"of the training tokens (data.text.min_coverage={min_coverage}); raise "
            f"max_tokens (up to {len(full)}) or lower data.text.min_coverage"
        )
    return vocab


def tokenize(texts: np.ndarray, vocab: Vocabulary, batch: int = 4096) -> list[np.ndarray]:
    """Each text as an int32 array of ids (no padding, no truncation)."""
    layer = vocab.layer(ragged=True)
    out: list[np.ndarray] = []
    for start in range(0, len(texts), batch):
        chunk = tf.constant(np.asarray(texts[start : start + batch]).astype(str))
        ragged = layer(chunk)
        flat = ragged.flat_values.numpy().astype(np.int32)
        cuts = np.cumsum(ragged.row_lengths().numpy())[:-1]
        out += np.split(flat, cuts)
    return out


def limit_length(
    seqs: list[np.ndarray], max_len: int, *, policy: str, what: str, keep: str = "start"
) -> tuple[list[np.ndarray], int]:
    """Cut sequences longer than `max_len` (a counted warning) or refuse them.

    Args:
        keep: "start" keeps the first tokens, "end" the last ones (stories).

    Raises:
        UserError: under `policy="error"` when any sequence is longer.
    """
    lengths = np.array([len(s) for s in seqs])
    long = int(np.sum(lengths > max_len))
    if not long:
        return seqs, 0
    message = (
        f"{what}: {long} of {len(seqs)} example(s) longer than {max_len} "
        f"(longest {lengths.max()})"
    )
    if policy == "error":
        raise UserError(
            f"{message}; raise the configured maximum or set data.text.too_long: truncate"
        )
    warnings.warn(f"{message}: truncated", stacklevel=2)
    cut = [s[:max_len] if keep == "start" else s[len(s) - max_len :] for s in seqs]
    return cut, long


def pad(seqs: list[np.ndarray], length: int, *, front: bool = False) -> np.ndarray:
    """[N, length] int32, padded with 0 at the end (or the front)."""
    where = "pre" if front else "post"
    return keras.utils.pad_sequences(
        seqs, maxlen=length, dtype="int32", padding=where, truncating=where, value=0
    )


def longest(seqs: list[np.ndarray], configured: int | None) -> int:
    return configured or max(1, max((len(s) for s in seqs), default=1))
