"""The "skipgram" task: learn word vectors, then query them.

Training ranks the true context above the negative samples (accuracy = how often it
comes first). The report shows the nearest neighbours (cosine) of `sequence.neighbours`
and the accuracy on an analogy list (`sequence.analogies`: lines `a b c d`, "a is to b
as c is to d"), answered by 3CosAdd: the word closest to b - a + c, the three query
words excluded (Mikolov et al. 2013).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np

from common import report
from common.errors import UserError
from pipelines.config.sequence import SequenceConfig
from pipelines.data.source import resolve_path
from pipelines.data.spec import DataSpec
from pipelines.data.text import Vocabulary
from pipelines.data.text_sources import read_lines
from pipelines.tasks.base import TASKS, Task
from pipelines.tasks.sequence.serving import WordVectors, export_text


def assemble(core: keras.Model, spec: DataSpec) -> keras.Model:
    return core  # complete as built: token ids in, no normalization


def compile_model(model: keras.Model, optimizer, spec: DataSpec) -> None:
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )


def unit_vectors(model: keras.Model) -> np.ndarray:
    """The word (input) embeddings, L2-normalized; padding and [UNK] zeroed."""
    vectors = np.asarray(model.get_layer("word_embedding").embeddings)
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    unit[:2] = 0.0
    return unit


def neighbours(unit: np.ndarray, vocab: Vocabulary, word: str, k: int) -> list[tuple[str, float]]:
    index = {t: i for i, t in enumerate(vocab.tokens)}
    if word not in index:
        return []
    sims = unit @ unit[index[word]]
    sims[index[word]] = -2.0
    best = np.argsort(-sims)[:k]
    return [(vocab.tokens[i], float(sims[i])) for i in best]


def read_analogies(path: Path) -> list[tuple[str, str, str, str]]:
    quads = []
    for number, line in enumerate(read_lines(path), start=1):
        words = line.split("#")[0].lower().split()
        if not words:
            continue
        if len(words) != 4:
            raise UserError(f"{path}:{number}: expected four words 'a b c d', got {line!r}")
        quads.append(tuple(words))
    return quads


def analogy_accuracy(unit: np.ndarray, vocab: Vocabulary, quads) -> dict[str, Any]:
    """3CosAdd accuracy over the analogies whose four words are in the vocabulary."""
    index = {t: i for i, t in enumerate(vocab.tokens)}
    known = [q for q in quads if all(w in index for w in q)]
    rows = []
    for a, b, c, d in known:
        ia, ib, ic = index[a], index[b], index[c]
        sims = unit @ (unit[ib] - unit[ia] + unit[ic])
        sims[[0, 1, ia, ib, ic]] = -np.inf
        guess = vocab.tokens[int(np.argmax(sims))]
        rows.append({"analogy": f"{a} : {b} :: {c} : ?", "expected": d, "answer": guess,
                     "ok": "yes" if guess == d else ""})
    correct = sum(r["ok"] == "yes" for r in rows)
    return {"analogy_accuracy": correct / len(rows) if rows else 0.0,
            "analogies_covered": len(known), "analogies_total": len(quads), "rows": rows}


def evaluate(run) -> dict[str, Any]:
    seq = run.cfg.sequence or SequenceConfig()
    results = run.model.evaluate(run.bundle.test, verbose=0, return_dict=True)
    vocab = Vocabulary.from_dict(run.bundle.spec.extra["text"])
    unit = unit_vectors(run.model)
    near = [{"word": w, "neighbours": ", ".join(f"{n} ({s:.2f})" for n, s in
                                                neighbours(unit, vocab, w, seq.neighbours_k))
             or "(not in the vocabulary)"} for w in seq.neighbours]
    metrics: dict[str, Any] = {"test_loss": float(results["loss"]),
                               "accuracy": float(results["accuracy"]),
                               "vocabulary_size": len(vocab), "neighbours": near}
    parts = ["## Evaluation (test split)",
             f"The true context ranks first among {run.bundle.spec.extra['num_negatives'] + 1} "
             f"candidates in **{metrics['accuracy']:.4f}** of the test pairs "
             f"(loss {metrics['test_loss']:.4f}); vocabulary {len(vocab)} words.\n",
             "### Nearest neighbours (cosine)\n", report.table(near, ["word", "neighbours"])]
    if seq.analogies:
        file = resolve_path(run.cfg.data.resolved_data_dir(), seq.analogies,
                            what="analogy list (sequence.analogies)")
        found = analogy_accuracy(unit, vocab, read_analogies(file))
        metrics.update({k: v for k, v in found.items() if k != "rows"})
        parts += [f"### Analogies (3CosAdd)\nAccuracy **{found['analogy_accuracy']:.4f}** on "
                  f"the {found['analogies_covered']} of {found['analogies_total']} analogies "
                  f"of `{seq.analogies}` whose words are all in the vocabulary.\n",
                  report.table(found["rows"], ["analogy", "expected", "answer", "ok"])]
    report.section(run.run_dir, "evaluate", "\n".join(parts))
    return metrics


def export(run) -> list[Path]:
    seq = run.cfg.sequence or SequenceConfig()
    vocab = Vocabulary.from_dict(run.bundle.spec.extra["text"])
    vectors = np.asarray(run.model.get_layer("word_embedding").embeddings)
    serving = WordVectors(vocab, vectors, seq.neighbours_k, name="word_vectors")
    samples = seq.neighbours[:8] or list(vocab.tokens[2:10])
    return [export_text(run, serving, samples, metadata={"neighbours": seq.neighbours_k})]


TASKS.add(
    "skipgram",
    Task(
        name="skipgram",
        assemble=assemble,
        compile=compile_model,
        evaluate=evaluate,
        serving_outputs=lambda logits: {"logits": logits},
        export=export,
        device_formats=False,
        monitor="val_loss",
        mode="min",
        data_tasks=("skipgram",),
    ),
)
