"""TensorBoard's HParams dashboard for a sweep or a search: one session per variant/trial.

`tensorboard --logdir <sweep or search folder>/hparams` shows the table, the parallel
coordinates and the scatter plots of each variant's settings against its final metrics,
written with `tensorboard.plugins.hparams` as a Keras user would write them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import tensorflow as tf
from tensorboard.plugins.hparams import api as hp
from tensorboard.plugins.hparams import metadata, plugin_data_pb2

from common.io import file_name

Session = tuple[str, dict[str, Any], dict[str, float]]  # (name, settings, final metrics)


def write_hparams(folder: Path, sessions: list[Session]) -> Path:
    """Write `folder/hparams` from scratch (a search rewrites it after each trial).

    Settings that are not a bool, number or string (a list, a dict) are logged as their
    text, which the dashboard can still filter on.
    """
    target = folder / "hparams"
    fresh = folder / f".hparams.tmp-{os.getpid()}"
    shutil.rmtree(fresh, ignore_errors=True)
    names = sorted({key for _, settings, _ in sessions for key in settings})
    metrics = sorted({key for _, _, values in sessions for key in values})
    with tf.summary.create_file_writer(str(fresh)).as_default():
        hp.hparams_config(hparams=[hp.HParam(n) for n in names],
                          metrics=[hp.Metric(m, display_name=m) for m in metrics])
    for name, settings, values in sessions:
        with tf.summary.create_file_writer(str(fresh / file_name(name, 80))).as_default():
            hp.hparams({key: _loggable(value) for key, value in settings.items()},
                       trial_id=name)
            for metric, value in values.items():
                tf.summary.scalar(metric, value, step=0)
    # swap in the new folder; a reader sees the old or the new one, never a half
    old = folder / f".hparams.old-{os.getpid()}"
    if target.exists():
        target.rename(old)
    fresh.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    return target


def read_hparams(log: Path) -> dict[str, tuple[dict[str, Any], dict[str, float]]]:
    """What the dashboard shows: {session: (settings, metrics)} read back from `log`."""
    sessions = {}
    for events in sorted(log.glob("*/events.out.tfevents.*")):
        settings: dict[str, Any] = {}
        values: dict[str, float] = {}
        for event in tf.compat.v1.train.summary_iterator(str(events)):
            for value in event.summary.value:
                plugin = value.metadata.plugin_data
                if plugin.plugin_name == metadata.PLUGIN_NAME:
                    data = plugin_data_pb2.HParamsPluginData.FromString(plugin.content)
                    for key, entry in data.session_start_info.hparams.items():
                        settings[key] = getattr(entry, entry.WhichOneof("kind"))
                elif value.HasField("tensor"):
                    values[value.tag] = float(tf.make_ndarray(value.tensor))
        sessions[events.parent.name] = (settings, values)
    return sessions


def numeric(metrics: dict[str, Any]) -> dict[str, float]:
    """The scalar numbers among `metrics` (the dashboard's metric columns)."""
    return {key: float(value) for key, value in metrics.items()
            if isinstance(value, int | float) and not isinstance(value, bool)}


def _loggable(value: Any) -> bool | int | float | str:
    if value is None:
        return "none"
    return value if isinstance(value, bool | int | float | str) else str(value)
