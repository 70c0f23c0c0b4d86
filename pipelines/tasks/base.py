"""What differs between tasks: how a core network is wrapped, compiled, monitored.

A task entry says how to put the data's normalization in front of a registered
builder's network, which loss and metrics to compile with, what to monitor for
checkpoints, how to evaluate on the test split, and what a deployed model returns.
Each task module registers its entry (`TASKS.add`) and is listed in
`pipelines/tasks/catalog.py`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras

from common.errors import UserError
from common.registry import Registry
from pipelines.data.spec import DataSpec
from pipelines.data.transforms import preprocess_layer

if TYPE_CHECKING:
    from pipelines.run import Run


@dataclasses.dataclass(frozen=True)
class Task:
    """How one kind of model is wrapped, compiled, evaluated and exported.

    Attributes:
        assemble: (builder's network, data spec) -> the model `fit` trains.
        compile: (model, optimizer, data spec) -> None; calls `model.compile`.
        evaluate: (run) -> metrics for metrics.json; writes plots and the
            "evaluate" report section.
        serving_outputs: model output -> dict returned by the exported `serve`.
        export: (run) -> exported folders; None uses the standard exporter
            (the assembled model behind a raw-input `serve` signature).
        prepare_fit: (run) -> (the DataBundle `fit` trains on, extra callbacks);
            None trains on run.bundle (generative tasks build denoising pairs and
            add sample grids and a `val_fd` monitor).
        monitor, mode: the validation metric for best checkpoints.
        device_formats: whether its exports can also be LiteRT / ONNX files (the text
            tasks' string inputs and in-graph vocabularies do not convert).
        compare_sweep: (sweep config, [(label, run)], sweep folder) -> a report section
            comparing a sweep's variants the task's own way (regress: error vs width).
    """

    name: str
    assemble: Callable[[keras.Model, DataSpec], keras.Model]
    compile: Callable[[keras.Model, keras.optimizers.Optimizer, DataSpec], None]
    evaluate: Callable[[Run], dict[str, Any]]
    serving_outputs: Callable[[Any], dict[str, Any]]
    export: Callable[[Run], list[Path]] | None = None
    prepare_fit: Callable[[Run], tuple[Any, list]] | None = None
    monitor: str = "val_loss"
    mode: str = "min"
    data_tasks: tuple[str, ...] = ()  # the data (spec.task) it can train on; () = no check
    device_formats: bool = True
    compare_sweep: Callable[[Any, list, Path], str] | None = None


TASKS: Registry[Task] = Registry("task")


def with_preprocessing(core: keras.Model, spec: DataSpec) -> keras.Model:
    """raw inputs -> normalization fitted on train -> `core`; keeps `core`'s name."""
    inputs = keras.Input(spec.input_shape, name="inputs")
    outputs = core(preprocess_layer(spec)(inputs))
    return keras.Model(inputs, outputs, name=f"{core.name}_model")


def task_for(model_task: str, spec: DataSpec) -> Task:
    """The task a run follows: the model's (the data must provide matching labels)."""
    if model_task in ("classify", "segment") and spec.task != model_task:
        raise UserError(
            f"the model is a {model_task!r} model but the data source gives "
            f"{spec.task!r} labels; pick a matching model or source option"
        )
    task = TASKS.get(model_task)
    if task.data_tasks and spec.task not in task.data_tasks:
        raise UserError(
            f"the model is a {model_task!r} model but the data source gives {spec.task!r} "
            f"examples; it trains on {' or '.join(task.data_tasks)} data (pick a matching "
            "model, source or data.text.examples)"
        )
    return task
