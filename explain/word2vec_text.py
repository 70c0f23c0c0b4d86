"""Word vectors in the word2vec text format (Mikolov's `word2vec -binary 0`).

The first line is `count dim`, then one line per word: `word v1 v2 ... v_dim`,
separated by spaces. GloVe files converted with gensim, fastText's `.vec` files and
gensim's `KeyedVectors.save_word2vec_format(binary=False)` are in this format, and
gensim's `KeyedVectors.load_word2vec_format` reads what `write_word2vec_text` writes.
gensim is not a dependency of dlzoo for one file reader, so the few lines are here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from common.errors import UserError
from common.io import write_text


def read_word2vec_text(path: Path) -> tuple[list[str], np.ndarray]:
    """The words and their vectors [count, dim] (float32) of a word2vec text file.

    Raises:
        UserError: a missing or unreadable file, a bad header, a line with the wrong
            number of values, a value that is not a number, a repeated word.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except FileNotFoundError:
        raise UserError(f"embedding file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise UserError(f"cannot read the embedding file {path}: {err}") from None
    header = lines[0].split()
    if len(header) != 2 or not all(h.isdigit() for h in header):
        raise UserError(f"{path}:1: expected the word2vec text header 'count dim', got "
                        f"{lines[0][:60]!r}")
    count, dim = int(header[0]), int(header[1])
    rows = [line.rstrip("\r") for line in lines[1:] if line.strip()]
    if len(rows) != count or count == 0 or dim == 0:
        raise UserError(f"{path}: the header announces {count} words of dimension {dim}; "
                        f"the file has {len(rows)} word lines")
    words, vectors, seen = [], np.empty((count, dim), np.float32), set()
    for i, line in enumerate(rows):
        parts = line.rstrip().split(" ")
        if len(parts) != dim + 1:
            raise UserError(f"{path}:{i + 2}: expected a word and {dim} numbers, got "
                            f"{len(parts) - 1} values")
        try:
            vectors[i] = np.asarray(parts[1:], np.float32)
        except ValueError:
            raise UserError(f"{path}:{i + 2}: a value of {parts[0]!r} is not a number") from None
        if parts[0] in seen:
            raise UserError(f"{path}:{i + 2}: the word {parts[0]!r} appears twice")
        seen.add(parts[0])
        words.append(parts[0])
    return words, vectors


def write_word2vec_text(path: Path, words: Sequence[str], vectors: np.ndarray) -> Path:
    """Write `words` and `vectors` [count, dim] as a word2vec text file (atomically).

    Values are written with 9 significant digits, enough to read float32 back exactly.

    Raises:
        ValueError: words and vectors disagree, or a word is empty or holds whitespace.
    """
    vectors = np.asarray(vectors, np.float32)
    if vectors.ndim != 2 or len(words) != len(vectors):
        raise ValueError(f"{len(words)} words for vectors of shape {vectors.shape}")
    bad = [w for w in words if not w or len(w.split()) != 1 or w != w.strip()]
    if bad:
        raise ValueError(f"words must be non-empty and hold no whitespace, got {bad[:3]}")
    lines = [f"{len(words)} {vectors.shape[1]}"]
    lines += [word + " " + " ".join(f"{v:.9g}" for v in row) for word, row in zip(words, vectors)]
    return write_text(Path(path), "\n".join(lines) + "\n")
