"""The tf.distribute strategy a run trains under, from `train.strategy`.

- `default`: one device (TensorFlow's default strategy).
- `mirrored`: `MirroredStrategy` over every local GPU, a device list, or, on a
  machine without GPUs, the CPU split into N logical devices (`logical_cpus`).
- `multi_worker`: `MultiWorkerMirroredStrategy`; the cluster comes from TF_CONFIG
  (checked here, so a malformed one is one clear error), or from
  `dlzoo train --workers N`, which launches N local workers (multiworker.py here).
- `tpu`: `TPUStrategy` through `TPUClusterResolver`.

Logical CPUs and collective ops can only be configured before TensorFlow initialises
its devices, so `pipelines.run.prepare` makes the strategy before anything touches
TensorFlow (reading data does); a process that already started TensorFlow with another
device layout gets a UserError naming the fix (a fresh process; the CLI is one).
"""

from __future__ import annotations

import functools
import json
import os
import socket
from urllib.parse import urlparse

import tensorflow as tf

from common.errors import UserError
from pipelines.config.distribute import STRATEGY_NAMES, StrategyConfig
from pipelines.config.train import TrainConfig

STRATEGIES = STRATEGY_NAMES


def strategy_from_config(cfg: TrainConfig) -> tf.distribute.Strategy:
    """The strategy `cfg.strategy` names, with its devices checked.

    Raises:
        UserError: more devices than exist, a malformed TF_CONFIG, no TPU reachable,
            or a device layout TensorFlow can no longer change in this process.
    """
    s = cfg.strategy
    if s.name == "default":
        return tf.distribute.get_strategy()
    if s.name == "mirrored":
        return _mirrored(s)
    if s.name == "multi_worker":
        return _multi_worker(s)
    return _tpu(s)


def single_device() -> tf.distribute.Strategy:
    """TensorFlow's default strategy (one device), e.g. to evaluate a finished run."""
    return tf.distribute.get_strategy()


def check_global_batch(batch_size: int, strategy: tf.distribute.Strategy) -> int:
    """`data.batch_size` is the global batch: each replica gets batch / replicas.

    Raises:
        UserError: the batch does not split evenly over the replicas.
    """
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        lower = batch_size - batch_size % replicas
        raise UserError(
            f"data.batch_size={batch_size} is the global batch and must split evenly "
            f"over the {replicas} replicas of this strategy; use a multiple of "
            f"{replicas}, e.g. {lower or replicas} or {lower + replicas}"
        )
    return batch_size // replicas


def ensure_logical_cpus(n: int) -> list[str]:
    """Split the (first) physical CPU into `n` logical devices; return their names.

    Raises:
        UserError: TensorFlow already initialised its devices with another count.
    """
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if current is None or len(current) != n:
        try:
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(n)]
            )
        except RuntimeError:
            have = len(tf.config.list_logical_devices("CPU"))
            if have != n:
                raise UserError(
                    f"train.strategy.logical_cpus={n}: TensorFlow already started in this "
                    f"process with {have} CPU device(s), and logical devices can only be "
                    "set before it starts; run the recipe in a fresh process "
                    "(`dlzoo train` / `dlzoo run`)"
                ) from None
    return [d.name for d in tf.config.list_logical_devices("CPU")][:n]


def _mirrored(s: StrategyConfig) -> tf.distribute.Strategy:
    if s.logical_cpus:
        devices = ensure_logical_cpus(s.logical_cpus)
    elif s.devices:
        devices = _check_devices(s.devices)
    else:
        devices = None  # every local GPU, else the CPU (one replica)
    return _mirrored_on(tuple(devices) if devices else None)


@functools.cache
def _mirrored_on(devices: tuple[str, ...] | None) -> tf.distribute.MirroredStrategy:
    # One strategy per device set and process: each new MirroredStrategy numbers its
    # collectives from the same keys, so a second one in the process (a sweep, GAN then
    # AAE) collides with the first's ("Shape mismatch in the collective instance").
    return tf.distribute.MirroredStrategy(list(devices) if devices else None)


def _check_devices(wanted: list[str]) -> list[str]:
    """Canonical names of `wanted`; every one must exist, none twice."""
    available = {d.name: d for d in tf.config.list_logical_devices()}
    out = []
    for name in wanted:
        try:
            spec = tf.DeviceSpec.from_string(name if name.startswith("/") else f"/{name}")
        except ValueError:
            spec = None
        canonical = (
            f"/device:{(spec.device_type or '').upper()}:{spec.device_index or 0}" if spec else name
        )
        if canonical not in available:
            raise UserError(
                f"train.strategy.devices: {name!r} does not exist on this machine; it has "
                f"{', '.join(sorted(available))} (no GPU? use logical_cpus: N to split the CPU)"
            )
        if canonical in out:
            raise UserError(f"train.strategy.devices: {name!r} is listed twice")
        out.append(canonical)
    return out


def _multi_worker(s: StrategyConfig) -> tf.distribute.Strategy:
    read_tf_config(required=True)
    implementation = {
        "auto": tf.distribute.experimental.CommunicationImplementation.AUTO,
        "ring": tf.distribute.experimental.CommunicationImplementation.RING,
        "nccl": tf.distribute.experimental.CommunicationImplementation.NCCL,
    }[s.communication]
    options = tf.distribute.experimental.CommunicationOptions(implementation=implementation)
    try:
        return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    except RuntimeError as err:  # "Collective ops must be configured at program startup"
        raise UserError(
            f"train.strategy: multi_worker must start before TensorFlow does in the "
            f"process ({err}); run each worker as its own `dlzoo train` process"
        ) from None


def read_tf_config(*, required: bool) -> dict | None:
    """TF_CONFIG from the environment, checked: a cluster of `worker` (and optional
    `chief`) addresses `host:port`, and this process's task in it.

    Raises:
        UserError: TF_CONFIG missing (when required) or malformed.
    """
    text = os.environ.get("TF_CONFIG", "")
    if not text.strip():
        if required:
            raise UserError(
                "train.strategy multi_worker needs a cluster: set TF_CONFIG on every "
                "worker (see README, Distributed training), or run local workers with "
                "`dlzoo train RECIPE --workers N`"
            )
        return None
    try:
        config = json.loads(text)
    except json.JSONDecodeError as err:
        raise UserError(f"TF_CONFIG is not valid JSON ({err}): {text[:200]!r}") from None
    problem = _tf_config_problem(config)
    if problem:
        raise UserError(
            f"TF_CONFIG: {problem}. Expected e.g. "
            '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}}'
        )
    return config


def _tf_config_problem(config) -> str | None:
    if not isinstance(config, dict) or not isinstance(config.get("cluster"), dict):
        return "no 'cluster' mapping"
    cluster, task = config["cluster"], config.get("task")
    unknown = set(cluster) - {"worker", "chief"}
    if unknown:
        return f"cluster jobs {sorted(unknown)} are not used by multi_worker (worker, chief)"
    if not cluster.get("worker") and not cluster.get("chief"):
        return "the cluster lists no workers"
    for job, addresses in cluster.items():
        if not isinstance(addresses, list) or not all(_is_address(a) for a in addresses):
            return f"cluster.{job} must be a list of 'host:port' strings, got {addresses!r}"
    if len(cluster.get("chief", [])) > 1:
        return "a cluster has at most one chief"
    if not isinstance(task, dict) or task.get("type") not in cluster:
        return f"task.type must be one of the cluster's jobs {sorted(cluster)}, got {task!r}"
    index = task.get("index")
    if not isinstance(index, int) or not 0 <= index < len(cluster[task["type"]]):
        return f"task.index must be 0..{len(cluster[task['type']]) - 1}, got {index!r}"
    return None


def _is_address(address) -> bool:
    host, _, port = str(address).rpartition(":")
    return bool(host) and port.isdigit() and 0 < int(port) < 65536


def is_chief() -> bool:
    """Whether this process writes the run's files (checkpoints, exports, reports):
    the `chief` task, else worker 0; always true outside a multi-worker cluster."""
    config = read_tf_config(required=False)
    if config is None:
        return True
    task = config["task"]
    if "chief" in config["cluster"]:
        return task["type"] == "chief"
    return task["index"] == 0


def _tpu(s: StrategyConfig) -> tf.distribute.Strategy:
    """TPUStrategy; `tpu: local` on a Cloud TPU VM, else the TPU's name or grpc address."""
    where = s.tpu if s.tpu is not None else os.environ.get("TPU_NAME", "")
    hint = (
        "On a Cloud TPU VM set train.strategy.tpu: local; on a TPU node give its name "
        "(TPU_NAME) or grpc://host:8470"
    )
    if not where:
        raise UserError(f"train.strategy tpu: which TPU? {hint}")
    if where.startswith("grpc://"):
        url = urlparse(where)
        if not _reachable(url.hostname or "", url.port or 8470):
            raise UserError(f"train.strategy tpu: nothing answers at {where}. {hint}")
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=where)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except Exception as err:  # resolver/TF raise many types: one clear message
        first = str(err).splitlines()[0][:200] if str(err) else ""
        raise UserError(
            f"train.strategy tpu: no TPU reachable at {where!r} ({type(err).__name__}: "
            f"{first}). {hint}"
        ) from None
    return tf.distribute.TPUStrategy(resolver)


def _reachable(host: str, port: int, timeout: float = 5.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


# Dataset ops that read files themselves; FILE sharding splits their file lists.
_READER_OPS = {
    "TFRecordDataset",
    "TFRecordDatasetV2",
    "TextLineDataset",
    "FixedLengthRecordDataset",
    "FixedLengthRecordDatasetV2",
}


def auto_shard_policy(dataset: tf.data.Dataset) -> tf.data.experimental.AutoShardPolicy:
    """FILE when the pipeline really reads files (a TFRecord/text/fixed-length reader,
    e.g. tfds), so each worker reads its own files; DATA otherwise (in-memory arrays,
    or file paths decoded in a map: every worker reads all, keeps its share)."""
    if _reads_files(dataset):
        return tf.data.experimental.AutoShardPolicy.FILE
    return tf.data.experimental.AutoShardPolicy.DATA


def _reads_files(dataset: tf.data.Dataset) -> bool:
    # Walks tf.data's (private) input links and map/interleave functions; serialising
    # the graph instead would copy every in-memory array it holds.
    stack, seen = [dataset], set()
    while stack:
        ds = stack.pop()
        if id(ds) in seen:
            continue
        seen.add(id(ds))
        if type(ds).__name__.lstrip("_") in _READER_OPS:  # e.g. TFRecordDatasetV2
            return True
        fn = getattr(ds, "_map_func", None) or getattr(ds, "_func", None)
        graph = getattr(getattr(fn, "function", None), "graph", None)
        if graph is not None and _READER_OPS & _graph_ops(graph.as_graph_def()):
            return True
        stack.extend(getattr(ds, "_inputs", lambda: [])())
    return False


def _graph_ops(graph_def) -> set[str]:
    """Op types of a function graph and of the functions it calls (nested datasets)."""
    ops = {node.op for node in graph_def.node}
    for fn in graph_def.library.function:
        ops |= {node.op for node in fn.node_def}
    return ops
