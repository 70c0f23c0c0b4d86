"""The "sequence" task: classify a whole sequence (many-to-one).

Token sequences (text sources) go into the network as ids: no normalization, the
padding is masked inside. Numeric sequences (MNIST-1D as 40 steps) get the usual
normalization layer in front, as the "classify" task does. Text models export with
their vectorization inside (raw strings in, class probabilities out).
"""

from __future__ import annotations

from pathlib import Path

import keras

from pipelines.data.spec import DataSpec
from pipelines.data.text import Vocabulary
from pipelines.export.run_export import export_standard
from pipelines.tasks.base import TASKS, Task, with_preprocessing
from pipelines.tasks.classify import classifier_outputs, compile_classifier, evaluate_run
from pipelines.tasks.sequence.serving import TextClassifier, export_text


def is_text(spec: DataSpec) -> bool:
    return "text" in spec.extra


def assemble(core: keras.Model, spec: DataSpec) -> keras.Model:
    """Token ids straight into the network; numeric steps through the normalization."""
    if not is_text(spec):
        return with_preprocessing(core, spec)
    inputs = keras.Input(spec.input_shape, dtype="int32", name="tokens")
    return keras.Model(inputs, core(inputs), name=f"{core.name}_model")


def export(run) -> list[Path]:
    spec = run.bundle.spec
    if not is_text(spec):
        return [export_standard(run)]
    vocab = Vocabulary.from_dict(spec.extra["text"])
    serving = TextClassifier(vocab, run.model, spec.extra["sequence_length"], name="classifier")
    samples = [str(s) for s in run.bundle.raw["test"].x[:16]]
    meta = {"vocabulary_size": len(vocab), "sequence_length": spec.extra["sequence_length"]}
    return [export_text(run, serving, samples, outputs=classifier_outputs, metadata=meta)]


TASKS.add(
    "sequence",
    Task(
        name="sequence",
        assemble=assemble,
        compile=compile_classifier,
        evaluate=evaluate_run,
        serving_outputs=classifier_outputs,
        export=export,
        device_formats=False,
        monitor="val_loss",
        mode="min",
        data_tasks=("classify",),
    ),
)
