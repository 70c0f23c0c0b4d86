"""Finite-sum objectives f(w) = (1/n) sum_i f_i(w) + (l2/2) ||w||^2, in numpy.

The stochastic methods of the lecture's "Accelerating the stochastic gradient" (SGD,
Polyak-Juditsky averaging, SAG, SVRG: `models/svrg.py`, `models/stochastic_baselines.py`)
need per-example gradients g_i(w) and the full gradient, counted one example at a time;
Keras' optimizers see only a mini-batch mean, so the two problems here expose both.

* `LeastSquares`: f_i(w) = (a_i.w - b_i)^2 / 2; its minimiser solves a linear system.
* `SoftmaxRegression`: L2-regularised multinomial logistic regression on (x_i, y_i),
  weights (d + 1) x K whose bias row is penalised too (as in Johnson & Zhang's
  experiments), so f is l2-strongly convex and SVRG converges linearly on it.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_softmax, softmax


@dataclasses.dataclass
class LeastSquares:
    """(1/n) sum_i (a_i.w - b_i)^2 / 2 + (l2/2) ||w||^2 over w in R^d."""

    a: np.ndarray  # (n, d)
    b: np.ndarray  # (n,)
    l2: float = 0.0

    @property
    def n(self) -> int:
        return len(self.b)

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.a.shape[1],)

    def value(self, w: np.ndarray) -> float:
        r = self.a @ w - self.b
        return float(0.5 * np.mean(r**2) + 0.5 * self.l2 * w @ w)

    def gradient(self, w: np.ndarray) -> np.ndarray:
        return self.a.T @ (self.a @ w - self.b) / self.n + self.l2 * w

    def example_gradient(self, w: np.ndarray, i: int) -> np.ndarray:
        return self.a[i] * (self.a[i] @ w - self.b[i]) + self.l2 * w

    def minimiser(self) -> np.ndarray:
        """The exact minimiser: (A'A/n + l2 I) w = A'b/n."""
        d = self.a.shape[1]
        return np.linalg.solve(self.a.T @ self.a / self.n + self.l2 * np.eye(d),
                               self.a.T @ self.b / self.n)


@dataclasses.dataclass
class SoftmaxRegression:
    """(1/n) sum_i -log softmax(x_i W + c)_{y_i} + (l2/2) ||w||^2; w = [W; c], (d+1, K)."""

    x: np.ndarray  # (n, d)
    y: np.ndarray  # (n,) class ids 0..K-1
    l2: float
    num_classes: int

    def __post_init__(self) -> None:
        self.x1 = np.hstack([self.x, np.ones((len(self.x), 1))])  # the bias as a last input
        self.onehot = np.eye(self.num_classes)[self.y]

    @property
    def n(self) -> int:
        return len(self.y)

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.x1.shape[1], self.num_classes)

    def value(self, w: np.ndarray) -> float:
        logp = log_softmax(self.x1 @ w, axis=1)
        data = -np.mean(logp[np.arange(self.n), self.y])
        return float(data + 0.5 * self.l2 * np.sum(w**2))

    def gradient(self, w: np.ndarray) -> np.ndarray:
        residual = softmax(self.x1 @ w, axis=1) - self.onehot
        return self.x1.T @ residual / self.n + self.l2 * w

    def example_residual(self, w: np.ndarray, i: int) -> np.ndarray:
        """softmax(x_i w) - onehot(y_i): g_i is x_i' times it (SAG stores only this)."""
        z = self.x1[i] @ w
        p = np.exp(z - z.max())
        return p / p.sum() - self.onehot[i]

    def example_gradient(self, w: np.ndarray, i: int) -> np.ndarray:
        return np.outer(self.x1[i], self.example_residual(w, i)) + self.l2 * w

    def smoothness(self) -> float:
        """An upper bound L_max on every f_i's smoothness constant: ||x_i||^2 / 2 + l2
        (the softmax's Hessian is at most 1/2 in operator norm)."""
        return float(0.5 * np.max(np.sum(self.x1**2, axis=1)) + self.l2)

    def full_smoothness(self) -> float:
        """An upper bound on the smoothness constant of f itself (Nesterov's step):
        lambda_max(X'X / n) / 2 + l2, at most L_max and usually far below it."""
        return float(0.5 * np.linalg.eigvalsh(self.x1.T @ self.x1 / self.n)[-1] + self.l2)

    def minimum(self, *, gtol: float = 1e-12) -> tuple[np.ndarray, float]:
        """(w*, f*) by scipy's L-BFGS on the full objective, to a gradient norm near
        float64 precision (the reference every suboptimality is measured against)."""
        result = minimize(
            lambda v: self.value(v.reshape(self.shape)),
            np.zeros(int(np.prod(self.shape))),
            jac=lambda v: self.gradient(v.reshape(self.shape)).ravel(),
            method="L-BFGS-B",
            options={"gtol": gtol, "ftol": 0.0, "maxiter": 20_000, "maxcor": 30},
        )
        w = result.x.reshape(self.shape)
        return w, self.value(w)
