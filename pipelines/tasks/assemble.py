"""From a config and a data spec to the compiled model `fit` trains.

registered builder (model.params, checked and coerced) -> the task's wrapper
(normalization in front, losses) -> adversarial training (train.adversarial) ->
weight penalties (train.l1/l2) -> compile with the optimizer and schedule.
"""

from __future__ import annotations

import keras

import pipelines.tasks.catalog  # noqa: F401  (registers every task, explicitly listed)
from common.errors import UserError
from models.catalog import build_model as build_network
from models.catalog import get_spec
from pipelines.config.experiment import ExperimentConfig
from pipelines.config.model import check_model_params
from pipelines.data.spec import DataSpec
from pipelines.tasks.base import Task, task_for
from pipelines.tasks.transfer import backbone_from_run
from pipelines.train.adversarial import with_adversarial_training
from pipelines.train.optimizers import build_optimizer
from pipelines.train.penalties import add_weight_penalties


def network(cfg: ExperimentConfig, spec: DataSpec) -> keras.Model:
    """The registered builder's (uncompiled) network for this data.

    Raises:
        UserError: the builder refuses its arguments (it names them; the data's
            input shape comes from data.image_size / data.color_mode).
    """
    params = check_model_params(cfg.model.name, cfg.model.params)
    if cfg.model.name == "transfer":  # a dlzoo run as backbone: its weights file
        params = backbone_from_run(params, spec, build=build_model)
    try:
        return build_network(cfg.model.name, inputs=spec.builder_inputs(), params=params)
    except ValueError as err:
        raise UserError(
            f"model {cfg.model.name!r} (model.params {cfg.model.params}, input shape "
            f"{tuple(spec.input_shape)} from data.image_size / data.color_mode): {err}"
        ) from None


def build_model(cfg: ExperimentConfig, spec: DataSpec) -> tuple[keras.Model, Task]:
    """The network, wrapped and compiled for its task (inside the caller's strategy scope)."""
    task = task_for(get_spec(cfg.model.name).task, spec)
    model = task.assemble(network(cfg, spec), spec)
    model = with_adversarial_training(model, cfg.train.adversarial, spec, seed=cfg.seed)
    add_weight_penalties(model, cfg.train.l1, cfg.train.l2)
    steps = cfg.train.steps_per_epoch or max(
        1, -(-spec.sizes.get("train", 1) // cfg.data.batch_size)
    )
    task.compile(model, build_optimizer(cfg, steps), spec)
    return model, task
