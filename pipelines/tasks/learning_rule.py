"""The `learning_rule` task: a linear unit trained by a classical rule
(`models.learning_rules.LearningRule`: perceptron, Adaline, Hebb) on two-class data,
then evaluated and exported as an ordinary classifier (its logits are [-s, s])."""

from __future__ import annotations

import keras

from common.errors import UserError
from models.learning_rules import LearningRule
from pipelines.data.spec import DataSpec
from pipelines.tasks.base import TASKS, Task, with_preprocessing
from pipelines.tasks.classify import classifier_outputs, compile_classifier, evaluate_run


def _assemble(core: keras.Model, spec: DataSpec) -> keras.Model:
    if spec.task != "classify" or len(spec.class_names) != 2 or spec.label_mode == "onehot":
        raise UserError(
            f"model {core.name!r} is a linear threshold unit: it needs two classes with "
            f"integer labels; the data gives {spec.task!r} labels, "
            f"{len(spec.class_names)} classes ({spec.label_mode})"
        )
    if not isinstance(core, LearningRule):
        raise UserError(f"model {core.name!r} is not a LearningRule (task learning_rule)")
    return core.with_network(with_preprocessing(core.net, spec))


TASKS.add(
    "learning_rule",
    Task(
        name="learning_rule",
        assemble=_assemble,
        compile=compile_classifier,  # the loss and accuracy are logged; the rule trains
        evaluate=evaluate_run,
        serving_outputs=classifier_outputs,
        monitor="val_loss",
        mode="min",
    ),
)
