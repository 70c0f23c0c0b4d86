"""The "qa" task: answer a question about a story (bAbI) with a memory network.

A classifier over the answer words seen in training: loss, accuracy, per-answer
scores and confusion matrix as for any classifier, plus a figure of where each hop
of the memory network looks in one test story. The export takes one string per
example, the story's sentences then the question ("Mary went to the kitchen. Where
is Mary?"), and returns the answer probabilities.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np

from common import report
from pipelines.data.spec import DataSpec
from pipelines.data.text import Vocabulary
from pipelines.tasks.base import TASKS, Task
from pipelines.tasks.classify import classifier_outputs, compile_classifier, evaluate_run
from pipelines.tasks.sequence.plots import memory_hops
from pipelines.tasks.sequence.serving import StoryQA, export_text


def assemble(core: keras.Model, spec: DataSpec) -> keras.Model:
    return core  # complete as built: token ids in, no normalization


def evaluate(run) -> dict[str, Any]:
    metrics = evaluate_run(run)
    figure = hop_figure(run)
    if figure:  # appended to the evaluation section the classifier evaluation wrote
        path = run.run_dir / "sections" / f"{report.ORDER.index('evaluate'):02d}-evaluate.md"
        text = path.read_text() if path.exists() else ""
        report.section(run.run_dir, "evaluate",
                       text + "\n### Memory hops (first test story)\n" + figure)
    return metrics


def hop_figure(run) -> str:
    """Each hop's attention over the sentences of the first test story (markdown)."""

    hops = [layer for layer in run.model.layers if layer.name.endswith("_attention")]
    if not hops:
        return ""
    probe = keras.Model(run.model.inputs, [layer.output for layer in hops])
    x, _ = next(iter(run.bundle.test))
    x = {k: v[:1] for k, v in x.items()}
    weights = np.stack([np.asarray(w)[0] for w in probe(x)])
    logits = np.asarray(run.model(x))[0]
    vocab = Vocabulary.from_dict(run.bundle.spec.extra["text"])
    story = np.asarray(x["story"])[0]
    used = np.flatnonzero(story.any(axis=1))
    sentences = [vocab.join(story[i]) for i in used]
    answer = run.bundle.spec.class_names[int(logits.argmax())]
    path = memory_hops(weights[:, used], sentences, vocab.join(np.asarray(x["question"])[0]),
                       answer, run.run_dir / "plots" / "memory_hops.png")
    return report.image("memory hops", path, run.run_dir)


def export(run) -> list[Path]:
    spec = run.bundle.spec
    vocab = Vocabulary.from_dict(spec.extra["text"])
    serving = StoryQA(vocab, run.model, memory=spec.extra["memory_size"],
                      width=spec.extra["sentence_length"], name="story_qa")
    test = run.bundle.raw["test"]
    samples = [
        " ".join(s if s.endswith((".", "?", "!")) else s + "." for s in str(story).split("\n"))
        + " " + str(question)
        for story, question in zip(test.x[:8], test.extras["question"][:8])
    ]
    return [export_text(run, serving, samples, outputs=classifier_outputs,
                        metadata={"format": "story sentences, then the question"})]


TASKS.add(
    "qa",
    Task(
        name="qa",
        assemble=assemble,
        compile=compile_classifier,
        evaluate=evaluate,
        serving_outputs=classifier_outputs,
        export=export,
        device_formats=False,
        monitor="val_loss",
        mode="min",
        data_tasks=("qa",),
    ),
)
