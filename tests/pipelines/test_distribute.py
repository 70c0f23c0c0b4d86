"""Distribution options in-process: the strategy section, bad input caught before
training, dataset sharding policy, linear LR scaling with warmup, mixed precision, and
dlzoo's distributed loop behaving exactly like `fit` (on one device here; 2 logical
CPUs and 2 worker processes are in test_distribute_mirrored / _multiworker)."""

from __future__ import annotations

import csv
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from common.errors import UserError
from pipelines import run as pipeline
from pipelines.cli.distribute_options import strategy_overrides
from pipelines.config.experiment import validate_config
from pipelines.config.load import dump_config
from pipelines.train.distribute.strategy import (
    auto_shard_policy,
    check_global_batch,
    is_chief,
    read_tf_config,
    strategy_from_config,
)
from tests.conftest import learned, small_recipe


def test_strategy_section_accepts_a_name_or_a_mapping(make_config):
    assert make_config(train={"strategy": "mirrored"}).train.strategy.name == "mirrored"
    cfg = make_config(train={"strategy": {"name": "mirrored", "logical_cpus": 2}})
    assert cfg.train.strategy.logical_cpus == 2
    again = validate_config(__import__("yaml").safe_load(dump_config(cfg)), source="dump")
    assert again.train.strategy == cfg.train.strategy  # config.yaml replays


@pytest.mark.parametrize(
    "strategy, message",
    [
        ("parameter_server", "train.strategy.name"),
        ({"name": "default", "logical_cpus": 2}, "logical_cpus applies to strategy mirrored"),
        ({"name": "mirrored", "workers": 2}, "workers applies to strategy multi_worker"),
        ({"name": "mirrored", "logical_cpus": 2, "devices": ["/cpu:0"]}, "not both"),
        ({"name": "mirrored", "logical_cpus": 1}, "logical_cpus"),
        ({"name": "mirrored", "gpus": 2}, "unknown key"),
    ],
)
def test_bad_strategy_sections_name_the_key(make_config, strategy, message):
    with pytest.raises(UserError, match=message):
        make_config(train={"strategy": strategy})


def test_cli_flags_become_overrides(tmp_path):
    from pipelines.config.load import load_recipe

    assert strategy_overrides(None, None) == ()
    recipe = tmp_path / "r.yaml"
    recipe.write_text(__import__("yaml").safe_dump(small_recipe(tmp_path)))
    extra = ("train.strategy.logical_cpus=2",)
    cfg = load_recipe(recipe, strategy_overrides("mirrored", None) + extra)
    assert (cfg.train.strategy.name, cfg.train.strategy.logical_cpus) == ("mirrored", 2)
    cfg = load_recipe(recipe, strategy_overrides(None, 3))
    assert (cfg.train.strategy.name, cfg.train.strategy.workers) == ("multi_worker", 3)
    with pytest.raises(UserError, match="--workers 2 runs multi_worker"):
        strategy_overrides("mirrored", 2)


def test_the_chief_is_the_chief_job_else_worker_0(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert is_chief() and read_tf_config(required=False) is None
    cluster = {"worker": ["a:1", "b:2"]}
    for index, chief in ((0, True), (1, False)):
        tf_config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
        monkeypatch.setenv("TF_CONFIG", json.dumps(tf_config))
        assert is_chief() is chief
    with_chief = {"cluster": {**cluster, "chief": ["c:3"]}, "task": {"type": "worker",
                                                                     "index": 0}}
    monkeypatch.setenv("TF_CONFIG", json.dumps(with_chief))
    assert not is_chief()


def test_global_batch_must_split_over_the_replicas():
    class FourReplicas:
        num_replicas_in_sync = 4

    assert check_global_batch(64, FourReplicas()) == 16
    with pytest.raises(UserError, match="batch_size=30.*4 replicas.*28 or 32"):
        check_global_batch(30, FourReplicas())


@pytest.mark.parametrize(
    "devices, message",
    [(["/gpu:0"], "'/gpu:0' does not exist"), (["/cpu:0", "cpu:0"], "listed twice"),
     (["/cpu:0", "/cpu:7"], "'/cpu:7' does not exist")],
)
def test_mirrored_on_devices_that_do_not_exist(make_config, devices, message):
    cfg = make_config(train={"strategy": {"name": "mirrored", "devices": devices}})
    with pytest.raises(UserError, match=message):
        strategy_from_config(cfg.train)


def test_logical_cpus_after_tensorflow_started_says_use_a_fresh_process(make_config):
    tf.config.list_logical_devices()  # TensorFlow has started in this process
    cfg = make_config(train={"strategy": {"name": "mirrored", "logical_cpus": 7}})
    with pytest.raises(UserError, match="logical_cpus=7.*fresh process"):
        strategy_from_config(cfg.train)


def test_tpu_without_a_reachable_tpu_is_a_user_error(make_config, monkeypatch):
    monkeypatch.delenv("TPU_NAME", raising=False)
    with pytest.raises(UserError, match="which TPU"):
        strategy_from_config(make_config(train={"strategy": "tpu"}).train)
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = make_config(train={"strategy": {"name": "tpu", "tpu": f"grpc://127.0.0.1:{port}"}})
    with pytest.raises(UserError, match="nothing answers"):
        strategy_from_config(cfg.train)


def test_auto_shard_policy_file_only_for_file_readers(make_config, tmp_path):
    bundle = pipeline.build(make_config().data)
    data = tf.data.experimental.AutoShardPolicy.DATA
    assert bundle.train.options().experimental_distribute.auto_shard_policy == data
    path = str(tmp_path / "a.tfrecord")
    with tf.io.TFRecordWriter(path) as writer:
        writer.write(b"x")
    files = tf.data.Dataset.from_tensor_slices([path]).interleave(tf.data.TFRecordDataset)
    assert auto_shard_policy(files.batch(2)) == tf.data.experimental.AutoShardPolicy.FILE
    decoded_in_a_map = tf.data.Dataset.from_tensor_slices([path]).map(tf.io.read_file)
    assert auto_shard_policy(decoded_in_a_map) == data


def test_linear_lr_scaling_with_warmup(make_config):
    from pipelines.train.optimizers import build_optimizer

    cfg = make_config(data={"batch_size": 256},
                      train={"optimizer": {"name": "sgd", "learning_rate": 0.1},
                             "lr_scaling": {"reference_batch": 64, "warmup_epochs": 2}})
    optimizer = build_optimizer(cfg, steps=10)
    lr = optimizer.learning_rate  # read through the schedule at the current step
    schedule = optimizer._learning_rate
    assert float(schedule(0)) == pytest.approx(0.4 / 20)  # ramps up from ~0...
    assert float(schedule(19)) == pytest.approx(0.4)  # ...to 0.1 * 256 / 64 in 2 epochs
    assert float(schedule(50)) == pytest.approx(0.4) and lr is not None
    plain = build_optimizer(make_config(train={"optimizer": {"learning_rate": 0.1}}), steps=10)
    assert float(plain.learning_rate) == pytest.approx(0.1)


def _history_csv(run) -> list[dict]:
    with open(run.run_dir / "history.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_distributed_loop_trains_exactly_like_fit(make_config):
    sections = {"train": {"epochs": 2, "steps_per_epoch": None, "backup": True}}
    by_fit = pipeline.train(make_config(**sections))
    custom = {**sections["train"], "strategy": {"name": "default", "loop": "custom"}}
    by_loop = pipeline.train(make_config(train=custom))
    assert by_loop.history.keys() == by_fit.history.keys()  # loss, accuracy, val_*
    for key, values in by_fit.history.items():
        np.testing.assert_allclose(by_loop.history[key], values, rtol=1e-5, err_msg=key)
    for a, b in zip(by_fit.model.get_weights(), by_loop.model.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert (by_loop.run_dir / "checkpoints" / "best.weights.h5").exists()
    assert not (by_loop.run_dir / "backup").exists()  # removed after a finished run


class _Interrupt(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 1:
            raise KeyboardInterrupt


def test_distributed_loop_resumes_from_backup(make_config, monkeypatch):
    import pipelines.train.fit as train_module

    cfg = make_config(train={"epochs": 3, "checkpoint": False,
                             "strategy": {"name": "default", "loop": "custom"}})
    original = train_module.callbacks
    monkeypatch.setattr(train_module, "callbacks", lambda *a: original(*a) + [_Interrupt()])
    with pytest.raises(KeyboardInterrupt):
        pipeline.train(cfg)
    run_dir = next(__import__("pathlib").Path(cfg.runs_dir).glob("*/*"))
    monkeypatch.setattr(train_module, "callbacks", original)
    resumed = pipeline.train(cfg, run_dir)
    assert [int(r["epoch"]) for r in _history_csv(resumed)] == [0, 1, 2]  # epoch 3 only


def test_mixed_precision_bfloat16_on_cpu_keeps_float32_outputs(make_config):
    cfg = make_config(train={"epochs": 3, "mixed_precision": "auto",
                             "optimizer": {"name": "adam", "learning_rate": 0.01}})
    run = pipeline.run_all(cfg)
    core = run.model.get_layer("mlp")
    assert core.get_layer("logits").dtype_policy.name == "float32"
    assert {layer.dtype_policy.name for layer in core.layers[1:-1]} == {"mixed_bfloat16"}
    x, _ = next(iter(run.bundle.test))
    assert run.model(x).dtype == "float32"
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored
    learned("accuracy", run.metrics["accuracy"], at_least=0.85)


def test_mixed_float16_scales_the_loss_or_refuses(make_config):
    run = pipeline.prepare(make_config(train={"mixed_precision": "mixed_float16"}), None)
    assert isinstance(run.model.optimizer, keras.optimizers.LossScaleOptimizer)
    adversarial = {"mixed_precision": "mixed_float16",
                   "adversarial": {"attack": "fgsm", "epsilon": 1.0}}
    with pytest.raises(UserError, match="mixed_float16 needs loss scaling.*mixed_bfloat16"):
        pipeline.prepare(make_config(train=adversarial), None)
