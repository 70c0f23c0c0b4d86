"""The `segment` task: per-pixel classification (image -> mask of class ids).

Loss: sparse categorical cross-entropy from logits, averaged over pixels. Metrics
during training: pixel accuracy, mean IoU (Keras' MeanIoU) and mean Dice. Evaluation
on the test split: per-class IoU and Dice from the pixel confusion matrix, example
overlays. The exported `serve` returns `mask` (class id per pixel) and `probabilities`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from common import report
from pipelines.data.spec import DataSpec
from pipelines.report import vision_plots
from pipelines.tasks.base import TASKS, Task, with_preprocessing

if TYPE_CHECKING:
    from pipelines.run import Run


@keras.saving.register_keras_serializable(package="dlzoo")
class MeanDice(keras.metrics.MeanIoU):
    """Mean Sorensen-Dice coefficient over the classes present, 2TP / (2TP + FP + FN).

    Keras has a Dice *loss* but no Dice metric; this reuses MeanIoU's streaming pixel
    confusion matrix (`total_cm`) and only changes the score computed from it.
    """

    def result(self):
        cm = ops.cast(self.total_cm, "float32")
        true_positives = ops.diagonal(cm)
        denominator = ops.sum(cm, axis=0) + ops.sum(cm, axis=1)
        present = ops.cast(denominator > 0, "float32")
        dice = ops.divide_no_nan(2.0 * true_positives, denominator)
        return ops.sum(dice * present) / ops.maximum(ops.sum(present), 1.0)


def _compile(model: keras.Model, optimizer, spec: DataSpec) -> None:
    n = spec.num_classes
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[
            keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
            keras.metrics.MeanIoU(n, sparse_y_pred=False, name="iou"),
            MeanDice(n, sparse_y_pred=False, name="dice"),
        ],
    )


def _serving_outputs(logits) -> dict[str, Any]:
    # tf.argmax: Keras' adds tf.BitwiseAnd, which LiteRT refuses (pipelines/tasks/classify.py)
    return {"mask": tf.argmax(logits, axis=-1, output_type=tf.int32),
            "probabilities": ops.softmax(logits, axis=-1)}


def mask_rows(out: dict[str, np.ndarray], names: list[str], labels: list[str]) -> list[dict]:
    """`dlzoo predict` rows for masks: the class covering most non-background pixels,
    its share of the image, and its mean probability there."""
    rows = []
    for label, mask, probs in zip(labels, out["mask"], out["probabilities"]):
        counts = np.bincount(mask.ravel(), minlength=probs.shape[-1])
        cls = int(counts[1:].argmax() + 1) if counts[1:].any() else 0
        where = mask == cls
        rows.append(
            {
                "input": label,
                "class": f"{names[cls] if names else cls} ({where.mean():.1%} of pixels)",
                "confidence": float(probs[..., cls][where].mean()),
            }
        )
    return rows


def segmentation_scores(confusion: np.ndarray, class_names: list[str]) -> dict[str, Any]:
    """Per-class IoU and Dice, their means over classes present, pixel accuracy."""
    tp = np.diag(confusion).astype(float)
    pred, true = confusion.sum(0).astype(float), confusion.sum(1).astype(float)
    present = (pred + true) > 0
    iou = np.divide(tp, pred + true - tp, out=np.zeros_like(tp), where=present)
    dice = np.divide(2 * tp, pred + true, out=np.zeros_like(tp), where=present)
    return {
        "pixel_accuracy": float(tp.sum() / max(confusion.sum(), 1)),
        "mean_iou": float(iou[present].mean()) if present.any() else 0.0,
        "mean_dice": float(dice[present].mean()) if present.any() else 0.0,
        "per_class": {
            name: {"iou": float(iou[i]), "dice": float(dice[i]), "pixels": int(true[i])}
            for i, name in enumerate(class_names)
        },
    }


def _evaluate(run: Run) -> dict[str, Any]:
    names = list(run.bundle.spec.class_names)
    n = len(names)
    confusion = np.zeros((n, n), np.int64)
    examples: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for x, y in run.bundle.test:
        pred = np.asarray(ops.argmax(run.model(x, training=False), axis=-1))
        y = np.asarray(y).astype(np.int64)
        confusion += np.bincount(n * y.ravel() + pred.ravel(), minlength=n * n).reshape(n, n)
        if len(examples) < 6:
            examples += list(zip(np.asarray(x), y, pred))[: 6 - len(examples)]
    results = run.model.evaluate(run.bundle.test, verbose=0, return_dict=True)
    metrics = {"test_loss": float(results["loss"]), **segmentation_scores(confusion, names)}
    metrics["confusion_matrix"] = confusion.tolist()
    path = vision_plots.segmentation_examples(
        examples, names, run.run_dir / "plots" / "segmentation_examples.png"
    )
    rows = [{"class": k, **v} for k, v in metrics["per_class"].items()]
    report.section(
        run.run_dir,
        "evaluate",
        "\n".join(
            [
                "## Evaluation (test split)",
                f"Mean IoU **{metrics['mean_iou']:.4f}**, mean Dice {metrics['mean_dice']:.4f}, "
                f"pixel accuracy {metrics['pixel_accuracy']:.4f}, loss {metrics['test_loss']:.4f} "
                f"on {run.bundle.spec.sizes.get('test')} images.\n",
                report.table(rows, ["class", "iou", "dice", "pixels"]),
                report.image("image, true mask, predicted mask", path, run.run_dir),
            ]
        ),
    )
    return metrics


TASKS.add(
    "segment",
    Task(
        name="segment",
        assemble=with_preprocessing,
        compile=_compile,
        evaluate=_evaluate,
        serving_outputs=_serving_outputs,
        monitor="val_loss",
        mode="min",
    ),
)
