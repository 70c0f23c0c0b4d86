"""Sequence metrics: token accuracy that ignores padding, exact match, BLEU.

BLEU (Papineni et al. 2002) is written here because none of the project's libraries
has it (nltk and sacrebleu are not dependencies): corpus-level, up to 4-grams,
uniform weights, brevity penalty, no smoothing, on the tokens the model predicts.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import keras
from keras import ops


class MaskedTokenAccuracy(keras.metrics.Mean):
    """Share of target tokens predicted right, padding (id 0) excluded."""

    def __init__(self, name: str = "token_accuracy", **kwargs):
        super().__init__(name=name, **kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "int32")
        predicted = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
        hits = ops.cast(ops.equal(y_true, predicted), "float32")
        real = ops.cast(ops.not_equal(y_true, 0), "float32")
        return super().update_state(hits, sample_weight=real)


def exact_match(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    if not references:
        return 0.0
    return sum(h == r for h, r in zip(hypotheses, references)) / len(references)


def _ngrams(tokens: Sequence[str], n: int) -> Counter:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def corpus_bleu(
    hypotheses: Sequence[Sequence[str]], references: Sequence[Sequence[str]], max_n: int = 4
) -> float:
    """Corpus BLEU in [0, 1] of token lists against one reference each."""
    matches, totals = [0] * max_n, [0] * max_n
    hyp_len = ref_len = 0
    for hyp, ref in zip(hypotheses, references):
        hyp_len, ref_len = hyp_len + len(hyp), ref_len + len(ref)
        for n in range(1, max_n + 1):
            h, r = _ngrams(hyp, n), _ngrams(ref, n)
            matches[n - 1] += sum(min(c, r[g]) for g, c in h.items())
            totals[n - 1] += max(len(hyp) - n + 1, 0)
    if hyp_len == 0 or min(matches) == 0:
        return 0.0
    log_precision = sum(math.log(m / t) for m, t in zip(matches, totals)) / max_n
    brevity = 1.0 if hyp_len > ref_len else math.exp(1 - ref_len / hyp_len)
    return brevity * math.exp(log_precision)
