"""Test-split evaluation for classifiers: loss, accuracy, per-class scores, confusion."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import numpy as np
import tensorflow as tf
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from common import report
from pipelines.data.builder import DataBundle
from pipelines.data.spec import DataSpec
from pipelines.report import plots
from pipelines.tasks.base import TASKS, Task, with_preprocessing

if TYPE_CHECKING:
    from pipelines.run import Run


def predict_split(
    model: keras.Model, bundle: DataBundle, split: str = "test"
) -> tuple[np.ndarray, np.ndarray]:
    """(labels as class ids, model outputs) for a whole split, in dataset order."""
    ys, outs = [], []
    for x, y in bundle.split(split):
        outs.append(np.asarray(model(x, training=False)))
        ys.append(np.asarray(y))
    y = np.concatenate(ys)
    if bundle.spec.label_mode == "onehot":
        y = y.argmax(-1)
    return y, np.concatenate(outs)


def classification_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, class_names: list[str]
) -> dict[str, Any]:

    labels = list(range(len(class_names)))
    p, r, f, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    return {
        "accuracy": float(np.mean(y_true == y_pred)),
        "per_class": {
            name: {
                "precision": float(p[i]),
                "recall": float(r[i]),
                "f1": float(f[i]),
                "support": int(support[i]),
            }
            for i, name in enumerate(class_names)
        },
        "macro_f1": float(np.mean(f)),
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
    }


def evaluate_classifier(model: keras.Model, bundle: DataBundle, run_dir: Path) -> dict[str, Any]:
    """Metrics for the test split; writes the confusion-matrix plot and report section."""
    results = model.evaluate(bundle.test, verbose=0, return_dict=True)
    y_true, logits = predict_split(model, bundle)
    names = list(bundle.spec.class_names)
    metrics = {
        "test_loss": float(results["loss"]),
        **classification_metrics(y_true, logits.argmax(-1), names),
    }
    cm_path = plots.confusion_matrix(
        np.array(metrics["confusion_matrix"]), names, run_dir / "plots" / "confusion_matrix.png"
    )
    rows = [{"class": n, **{k: v for k, v in s.items()}} for n, s in metrics["per_class"].items()]
    report.section(
        run_dir,
        "evaluate",
        "\n".join(
            [
                "## Evaluation (test split)",
                f"Test accuracy **{metrics['accuracy']:.4f}**, loss {metrics['test_loss']:.4f}, "
                f"macro F1 {metrics['macro_f1']:.4f} on {len(y_true)} examples.\n",
                report.table(rows, ["class", "precision", "recall", "f1", "support"]),
                report.image("confusion matrix", cm_path, run_dir),
            ]
        ),
    )
    return metrics


def compile_classifier(model: keras.Model, optimizer, spec: DataSpec) -> None:
    if spec.label_mode == "onehot":
        loss = keras.losses.CategoricalCrossentropy(from_logits=True)
        metric = keras.metrics.CategoricalAccuracy(name="accuracy")
    else:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        metric = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    model.compile(optimizer=optimizer, loss=loss, metrics=[metric])


def classifier_outputs(logits) -> dict[str, Any]:
    probabilities = keras.ops.softmax(logits, axis=-1)
    # tf.argmax, not keras.ops.argmax: Keras' version tells -0.0 from 0.0 with a bitcast and
    # tf.BitwiseAnd, an op the LiteRT converter refuses (int32, as Keras returns)
    return {"probabilities": probabilities,
            "class_ids": tf.argmax(probabilities, axis=-1, output_type=tf.int32)}


def evaluate_run(run: Run) -> dict[str, Any]:
    return evaluate_classifier(run.model, run.bundle, run.run_dir)


TASKS.add(
    "classify",
    Task(
        name="classify",
        assemble=with_preprocessing,
        compile=compile_classifier,
        evaluate=evaluate_run,
        serving_outputs=classifier_outputs,
        monitor="val_loss",  # smoother than val_accuracy on small validation splits
        mode="min",
    ),
)
