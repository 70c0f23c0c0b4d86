"""Callbacks of generative runs: what a user watches while a model trains.

`SampleGrid` saves images from one FIXED batch of prior draws every N epochs (one row
per class for conditional models, per categorical code value for InfoGAN), or
originals above reconstructions for plain autoencoders; side effects stay out of
`train_step`. `FrechetMonitor` adds `val_fd`, the Frechet distance between validation
images and fresh samples in the judge classifier's feature space, to each epoch's
logs, so best checkpoints and early stopping can follow sample quality (GAN losses do
not measure it).
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from pipelines.tasks.generative import plots as gplots
from pipelines.tasks.generative import sampling
from pipelines.tasks.generative.metrics import frechet_distance
from pipelines.train.callbacks import due


def grid_labels(rows: int, columns: int, num_classes: int) -> np.ndarray:
    """Row r asks for class r (mod the number of classes)."""
    return np.repeat(np.arange(rows) % num_classes, columns).astype(np.int32)


class SampleGrid(keras.callbacks.Callback):
    """Save a grid of samples (or reconstructions) every `every` epochs and at the end.

    Args:
        out_dir: where `epoch_NNN.png` files go.
        input_range: the data's raw range (for display).
        every: epochs between grids.
        grid: the grid is `grid` x `grid` images.
        class_names: row titles for conditional models.
        images: raw images to reconstruct instead (plain autoencoders).
    """

    def __init__(
        self,
        out_dir: Path,
        *,
        input_range: tuple[float, float],
        every: int = 1,
        grid: int = 8,
        class_names: tuple[str, ...] = (),
        images: np.ndarray | None = None,
        seed: int = 0,
    ):
        super().__init__()
        self.out_dir, self.input_range = Path(out_dir), input_range
        self.every, self.grid, self.class_names = every, grid, class_names
        self.images, self.seed = images, seed
        self.saved: list[Path] = []
        self._last_epoch = -1

    def on_train_begin(self, logs=None) -> None:
        model = self.model
        self.labels = None
        if model.conditional and self.class_names:
            self.labels = grid_labels(self.grid, self.grid, len(self.class_names))
        codes = self.labels
        if getattr(model, "categories", 0):  # InfoGAN: row r has categorical code r
            codes = grid_labels(self.grid, self.grid, model.categories)
        if self.images is None:
            self.noise = sampling.prior_draws(model, self.grid**2, codes, seed=self.seed)

    def on_epoch_end(self, epoch, logs=None) -> None:
        self._last_epoch = epoch
        if (epoch + 1) % self.every == 0:
            self._save(epoch + 1)

    def on_train_end(self, logs=None) -> None:
        if self._last_epoch >= 0 and (self._last_epoch + 1) % self.every:
            self._save(self._last_epoch + 1)

    def _save(self, epoch: int) -> None:
        path = self.out_dir / f"epoch_{epoch:03d}.png"
        if self.images is not None:
            rows = [self.images, sampling.reconstruct(self.model, self.images)]
            gplots.image_rows(
                rows,
                path,
                input_range=self.input_range,
                row_titles=["input", "output"],
                title=f"reconstructions, epoch {epoch}",
            )
        else:
            titles = None
            if self.labels is not None:
                titles = [self.class_names[k] for k in self.labels[:: self.grid]]
            gplots.sample_grid(
                sampling.generate(self.model, self.noise, self.labels),
                path,
                input_range=self.input_range,
                columns=self.grid,
                row_titles=titles,
                title=f"fixed noise, epoch {epoch}",
            )
        self.saved.append(path)


class FrechetMonitor(keras.callbacks.Callback):
    """Put `val_fd` in the epoch logs (must run before checkpointing callbacks).

    Args:
        judge: a `generative_judge.Judge`.
        real: raw validation images.
        real_labels: their labels (conditional models get these labels' classes).
        samples: generated images per evaluation (the same draws every epoch).
        every: epochs between evaluations (the last epoch is always evaluated).
    """

    def __init__(self, judge, real: np.ndarray, real_labels: np.ndarray, *, samples: int,
                 seed=0, every: int = 1):
        super().__init__()
        self.judge, self.real, self.real_labels = judge, real, real_labels
        self.samples, self.seed, self.every = samples, seed, every

    def on_train_begin(self, logs=None) -> None:
        self.real_features = self.judge.embed(self.real)[0]
        self.labels = None
        if self.model.conditional:
            self.labels = np.resize(self.real_labels, self.samples).astype(np.int32)
        self.noise = sampling.prior_draws(self.model, self.samples, self.labels, seed=self.seed)

    def on_epoch_end(self, epoch, logs=None) -> None:
        if not due(epoch, self.every, self.params.get("epochs")):
            return  # generative.fd_every: not this epoch
        fake = sampling.generate(self.model, self.noise, self.labels)
        if not np.isfinite(fake).all():
            return  # DivergenceGuard names the diverged player; no distance to report
        features = self.judge.embed(fake)[0]
        if logs is not None:
            logs["val_fd"] = frechet_distance(self.real_features, features)
