"""The "seq2seq" task: translate a sequence into another (dates, English -> French).

Trained with teacher forcing on token cross-entropy (padding ignored); evaluated by
decoding the test split (greedy or beam search, `sequence.decode`): exact match,
corpus BLEU, example translations and, with attention, the alignment heatmaps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from common import report
from models.seq2seq_decode import decode
from pipelines.config.sequence import SequenceConfig
from pipelines.data.spec import DataSpec
from pipelines.data.text import UNK, Vocabulary
from pipelines.tasks.base import TASKS, Task
from pipelines.tasks.sequence.metrics import (
    MaskedTokenAccuracy,
    by_source,
    corpus_bleu,
    exact_match,
    sacre_scores,
)
from pipelines.tasks.sequence.plots import attention_heatmaps
from pipelines.tasks.sequence.serving import Translator, export_text


def assemble(core: keras.Model, spec: DataSpec) -> keras.Model:
    return core  # complete as built: token ids in, no normalization


def compile_model(model: keras.Model, optimizer, spec: DataSpec) -> None:
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
        metrics=[MaskedTokenAccuracy()],
    )


def settings(cfg) -> SequenceConfig:
    return cfg.sequence or SequenceConfig()


def translate(run, split: str = "test") -> dict[str, Any]:
    """Decode a whole split: hypotheses, references (token lists), attention, inputs."""
    spec, seq = run.bundle.spec, settings(run.cfg)
    target = spec.extra["target_text"]
    vocab = Vocabulary.from_dict(target)
    hyps, refs, sources, attention = [], [], [], []
    run_decode = tf.function(  # one graph for every batch (a Python loop of steps inside)
        lambda source: decode(run.model, source, method=seq.decode, beam_width=seq.beam_width,
                              max_length=spec.extra["target_sequence_length"],
                              start_id=target["start_id"], end_id=target["end_id"],
                              length_penalty=seq.length_penalty),
        input_signature=[tf.TensorSpec([None, None], tf.int32)],
    )
    for x, y in run.bundle.split(split):
        out = run_decode(tf.cast(x["source"], tf.int32))
        hyps += [_tokens(vocab, row) for row in np.asarray(out.tokens)]
        # an out-of-vocabulary reference word can never be matched, not even by [UNK]
        refs += [[t if t != UNK else "<oov>" for t in _tokens(vocab, row)]
                 for row in np.asarray(y)]
        sources += list(np.asarray(x["source"]))
        if out.attention is not None and len(attention) < seq.attention_examples:
            attention += list(np.asarray(out.attention)[: seq.attention_examples])
    return {"hypotheses": hyps, "references": refs, "sources": sources, "attention": attention,
            "level": vocab.level}


def _tokens(vocab: Vocabulary, ids) -> list[str]:
    text = vocab.join([int(i) for i in ids])
    return list(text) if vocab.level == "char" else text.split()


def evaluate(run) -> dict[str, Any]:
    """Teacher-forced loss and token accuracy, then decoded exact match and BLEU."""
    results = run.model.evaluate(run.bundle.test, verbose=0, return_dict=True)
    seq, spec = settings(run.cfg), run.bundle.spec
    decoded = translate(run)
    join = "".join if decoded["level"] == "char" else " ".join
    hyps = [join(h) for h in decoded["hypotheses"]]
    refs = [join(r) for r in decoded["references"]]
    # every reference a source has in the test split, one hypothesis per source
    grouped_hyps, grouped_refs = by_source(
        [tuple(np.asarray(s).tolist()) for s in decoded["sources"]],
        decoded["hypotheses"], decoded["references"])
    sacre = sacre_scores([join(h) for h in grouped_hyps],
                         [[join(r) for r in refs_] for refs_ in grouped_refs],
                         tokenize="char" if decoded["level"] == "char" else "13a")
    metrics = {
        "test_loss": float(results["loss"]),
        "token_accuracy": float(results["token_accuracy"]),
        "exact_match": exact_match(hyps, refs),
        "bleu": corpus_bleu(grouped_hyps, grouped_refs),
        **sacre,
        "distinct_sources": len(grouped_hyps),
        "references_per_source": len(refs) / max(len(grouped_hyps), 1),
        "decode": seq.decode if seq.decode == "greedy" else f"beam{seq.beam_width}",
    }
    source_vocab = Vocabulary.from_dict(spec.extra["text"])
    rows = [
        {"source": source_vocab.join(s), "reference": r, "prediction": h,
         "ok": "yes" if h == r else ""}
        for s, r, h in zip(decoded["sources"][: seq.examples], refs, hyps)
    ]
    figures = _attention_figures(run, decoded, source_vocab)
    report.section(run.run_dir, "evaluate", "\n".join([
        "## Evaluation (test split)",
        f"Decoding: {metrics['decode']}. Exact match **{metrics['exact_match']:.4f}**, "
        f"corpus BLEU-4 **{metrics['bleu']:.4f}** ({decoded['level']} tokens; sacreBLEU "
        f"{metrics['sacrebleu']:.2f}, chrF {metrics['chrf']:.2f} on the text, "
        f"`{metrics['sacrebleu_signature']}`), against all "
        f"{metrics['references_per_source']:.2f} references per source on average over "
        f"{metrics['distinct_sources']} distinct sources, "
        f"teacher-forced token accuracy {metrics['token_accuracy']:.4f}, "
        f"loss {metrics['test_loss']:.4f}, on {len(refs)} examples.\n",
        report.table(rows, ["source", "reference", "prediction", "ok"]),
        *figures,
    ]))
    metrics["examples"] = rows
    return metrics


def _attention_figures(run, decoded: dict, source_vocab: Vocabulary) -> list[str]:
    if not decoded["attention"]:
        return []
    items = []
    for weights, src, hyp in zip(decoded["attention"], decoded["sources"],
                                 decoded["hypotheses"]):
        src_tokens = _tokens(source_vocab, src)
        out_tokens = [*hyp, "[end]"]
        items.append((weights[: len(out_tokens), : len(src_tokens)], src_tokens, out_tokens))
    path = attention_heatmaps(items, run.run_dir / "plots" / "attention.png")
    return ["Attention weights (rows: output tokens, columns: input tokens):\n",
            report.image("attention heatmaps", path, run.run_dir)]


def export(run) -> list[Path]:
    spec, seq = run.bundle.spec, settings(run.cfg)
    serving = Translator(
        Vocabulary.from_dict(spec.extra["text"]), spec.extra["target_text"], run.model,
        length=spec.extra["sequence_length"], steps=spec.extra["target_sequence_length"],
        method=seq.decode, beam_width=seq.beam_width, length_penalty=seq.length_penalty,
        name="translator",
    )
    samples = [str(s) for s in run.bundle.raw["test"].x[:8]]
    return [export_text(run, serving, samples, metadata={"decode": seq.decode})]


TASKS.add(
    "seq2seq",
    Task(
        name="seq2seq",
        assemble=assemble,
        compile=compile_model,
        evaluate=evaluate,
        serving_outputs=lambda logits: {"logits": logits},
        export=export,
        device_formats=False,
        monitor="val_loss",
        mode="min",
        data_tasks=("seq2seq",),
    ),
)
