"""Sequence metrics: token accuracy that ignores padding, exact match, BLEU, chrF.

The reported BLEU and chrF are sacreBLEU's (Post 2018), as the field computes them, on
the detokenized text against every reference a source has. dlzoo's own `corpus_bleu`
(Papineni et al. 2002: corpus-level, up to 4-grams, clipped by the best reference,
closest reference length, no smoothing) stays for the model's own tokens because it
agrees with sacreBLEU on those to 0.1 points (tests/pipelines/test_text_tasks.py).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import keras
import sacrebleu
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
    hypotheses: Sequence[Sequence[str]], references: Sequence[Sequence[Sequence[str]]],
    max_n: int = 4,
) -> float:
    """Corpus BLEU in [0, 1] of token lists, each against its list of references."""
    matches, totals = [0] * max_n, [0] * max_n
    hyp_len = ref_len = 0
    for hyp, refs in zip(hypotheses, references):
        hyp_len += len(hyp)
        # the reference length closest to the hypothesis' (the shorter on a tie)
        ref_len += min((abs(len(r) - len(hyp)), len(r)) for r in refs)[1]
        for n in range(1, max_n + 1):
            h = _ngrams(hyp, n)
            best: Counter = Counter()
            for ref in refs:
                best |= _ngrams(ref, n)  # each n-gram's count in its best reference
            matches[n - 1] += sum(min(c, best[g]) for g, c in h.items())
            totals[n - 1] += max(len(hyp) - n + 1, 0)
    if hyp_len == 0 or min(matches) == 0:
        return 0.0
    log_precision = sum(math.log(m / t) for m, t in zip(matches, totals)) / max_n
    brevity = 1.0 if hyp_len > ref_len else math.exp(1 - ref_len / hyp_len)
    return brevity * math.exp(log_precision)


def sacre_scores(hypotheses: Sequence[str], references: Sequence[Sequence[str]],
                 *, tokenize: str = "13a") -> dict[str, Any]:
    """sacreBLEU's corpus BLEU and chrF (0-100) of texts, each against its references,
    with the signatures that say how they were computed."""
    streams = [[refs[i] if i < len(refs) else None for refs in references]
               for i in range(max(map(len, references), default=0))]
    bleu = sacrebleu.metrics.BLEU(tokenize=tokenize)
    chrf = sacrebleu.metrics.CHRF()
    return {"sacrebleu": bleu.corpus_score(list(hypotheses), streams).score,
            "chrf": chrf.corpus_score(list(hypotheses), streams).score,
            "sacrebleu_signature": str(bleu.get_signature()),
            "chrf_signature": str(chrf.get_signature())}


def by_source(sources: Sequence, hypotheses: Sequence, references: Sequence) -> tuple[list, list]:
    """One hypothesis per distinct source (hashable: a text or a tuple of ids) with every
    reference that source has in the split (Tatoeba has several translations of many
    English sentences)."""
    groups: dict[Any, tuple[Any, list]] = {}
    for source, hyp, ref in zip(sources, hypotheses, references):
        groups.setdefault(source, (hyp, []))[1].append(ref)
    return [hyp for hyp, _ in groups.values()], [refs for _, refs in groups.values()]
