"""The `classify_aux` task: classifiers with auxiliary heads (GoogLeNet's deep
supervision), trained through `models.deep_supervision.DeepSupervised` and otherwise
evaluated and exported as ordinary classifiers.
"""

from __future__ import annotations

import keras

from common.errors import UserError
from models.deep_supervision import DeepSupervised
from pipelines.data.spec import DataSpec
from pipelines.tasks.base import TASKS, Task, with_preprocessing
from pipelines.tasks.classify import classifier_outputs, compile_classifier, evaluate_run


def _assemble(core: keras.Model, spec: DataSpec) -> keras.Model:
    if spec.task != "classify":
        raise UserError(
            f"model {core.name!r} is a classifier (with auxiliary heads) but the data gives "
            f"{spec.task!r} labels"
        )
    if len(core.outputs) < 2:
        raise UserError(f"model {core.name!r} has no auxiliary outputs for task classify_aux")
    return DeepSupervised(with_preprocessing(core, spec))


TASKS.add(
    "classify_aux",
    Task(
        name="classify_aux",
        assemble=_assemble,
        compile=compile_classifier,
        evaluate=evaluate_run,
        serving_outputs=classifier_outputs,
        monitor="val_loss",
        mode="min",
    ),
)
