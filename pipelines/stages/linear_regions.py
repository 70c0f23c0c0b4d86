"""The `linear_regions:` stage: how many linear regions a ReLU network on 2-D inputs
cuts the input square into (Pascanu, Montufar et al. 2014), counted from activation
patterns on a grid (`models.linear_regions`), for the trained network and for
`inits` random initializations of the same architecture, against the bounds: one
layer of n units at most sum_{j<=2} C(n, j) (37 for 8 units); Montufar et al.'s deep
construction (44 for two layers of 4); Serra et al.'s upper bound for deep nets (121
for two layers of 4). The hand-built networks that attain the first two are counted
too (`models.region_constructions`), and the random-init counts of the same width at
depths 1..3 show the growth with depth.

Metrics: `regions_trained`, `regions_init_mean`, `regions_init_max`,
`regions_upper_bound`, `regions_bound_slack` (upper bound - the largest measured
count), `regions_construction` (Montufar's count for these widths),
`regions_hand_built` (the construction's measured count, when one exists for them),
`hidden_units`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from common import report
from common.errors import UserError
from models import linear_regions as lr
from models.introspect import find_layer
from models.region_constructions import folding_network, tangent_lines
from pipelines.config.linear_regions import LinearRegionsConfig
from pipelines.report import foundation_plots
from pipelines.stages.registry import STAGES, Stage
from pipelines.tasks.assemble import build_model

if TYPE_CHECKING:
    from pipelines.run import Run

N0 = 2  # the counter draws a 2-D square


def hidden_widths(run: Run) -> tuple[list[str], list[int]]:
    """(hidden Dense layer names, their widths); refuses non-ReLU or non-2-D networks."""
    names = lr.hidden_relu_layers(run.model)
    activation = run.cfg.model.params.get("activation", "relu")
    if activation != "relu" or not names:
        raise UserError(
            f"linear_regions: counts regions of ReLU networks; model {run.cfg.model.name!r} "
            f"has activation {activation!r} and hidden Dense layers {names}"
        )
    if tuple(run.bundle.spec.input_shape) != (N0,):
        raise UserError(
            f"linear_regions: needs 2-D inputs (a square to draw); the data gives shape "
            f"{tuple(run.bundle.spec.input_shape)}"
        )
    return names, [int(find_layer(run.model, n).units) for n in names]


def _random_counts(run: Run, cfg: LinearRegionsConfig, names, grid) -> tuple[np.ndarray, Any]:
    """Counts over `inits` draws (seeded by the run), and the ids of the richest draw."""
    fresh, _ = build_model(run.cfg, run.bundle.spec)
    rng = np.random.default_rng(run.cfg.seed)
    counts, best, probe = [], (None, -1), lr.pattern_probe(fresh, names)
    for _ in range(cfg.inits):
        lr.reinitialize(fresh, names, rng, cfg.bias_std)
        ids, count = lr.pattern_ids(lr.activation_patterns(fresh, grid, names, probe=probe))
        counts.append(count)
        if count > best[1]:
            best = (ids, count)
    return np.array(counts), best[0]


def _depth_growth(cfg: LinearRegionsConfig, width: int, grid, seed: int) -> list[dict]:
    """Random-init counts of `width`-unit ReLU stacks of depth 1..3, and their bounds."""
    rows, rng = [], np.random.default_rng(seed + 1)
    for depth in (1, 2, 3):
        net = lr.relu_stack(N0, [width] * depth)
        names = lr.hidden_relu_layers(net)
        counts, probe = [], lr.pattern_probe(net, names)
        for _ in range(cfg.inits):
            lr.reinitialize(net, names, rng, cfg.bias_std)
            counts.append(lr.count_regions(net, grid, names, probe=probe))
        rows.append({
            "depth": depth, "width": width, "units": depth * width,
            "mean": float(np.mean(counts)), "max": int(np.max(counts)),
            "construction": lr.deep_construction_regions([width] * depth, N0),
            "upper bound": lr.deep_max_regions([width] * depth, N0),
        })
    return rows


def _hand_built(widths: list[int], points: int) -> tuple[int, np.ndarray, tuple] | None:
    """The construction attaining the known count for these widths, if there is one."""
    if len(widths) == 1:
        net, square = tangent_lines(widths[0]), (-1.0, 1.0)
    elif all(w == 2 * N0 for w in widths):
        net, square = folding_network(len(widths)), (0.0, 1.0)
    else:
        return None
    grid = lr.square_grid(*square, points)
    ids, count = lr.pattern_ids(lr.activation_patterns(net, grid, lr.hidden_relu_layers(net)))
    return count, ids, square


def run_stage(run: Run) -> dict[str, Any]:
    cfg = run.cfg.linear_regions
    names, widths = hidden_widths(run)
    square = cfg.square or tuple(float(v) for v in run.bundle.spec.input_range)
    grid = lr.square_grid(*square, cfg.grid)
    trained_ids, trained = lr.pattern_ids(lr.activation_patterns(run.model, grid, names))
    counts, best_ids = _random_counts(run, cfg, names, grid)
    bounds = {
        "upper bound": lr.deep_max_regions(widths, N0),
        "Montufar construction": lr.deep_construction_regions(widths, N0),
    }
    if len(widths) > 1:
        bounds["one layer, same units"] = lr.shallow_max_regions(sum(widths), N0)
    hand = _hand_built(widths, cfg.grid)
    depth_rows = _depth_growth(cfg, widths[0], grid, run.cfg.seed)
    panels = [(f"trained: {trained} regions", trained_ids, square),
              (f"richest of {cfg.inits} random inits: {counts.max()}", best_ids, square)]
    if hand is not None:
        panels.append((f"hand-built: {hand[0]} regions", hand[1], hand[2]))
    raw = run.bundle.raw.get("train")
    plots = run.run_dir / "plots"
    maps = foundation_plots.region_maps(panels, plots / "linear_regions.png",
                                        None if raw is None else raw.x[:400])
    hist = foundation_plots.region_counts(counts, bounds, depth_rows,
                                          plots / "region_counts.png", f"widths {widths}")
    out = {
        "regions_trained": trained,
        "regions_init_mean": float(counts.mean()),
        "regions_init_max": int(counts.max()),
        "regions_upper_bound": bounds["upper bound"],
        "regions_construction": bounds["Montufar construction"],
        # >= 0: no measured count above the upper bound (a grid never overcounts)
        "regions_bound_slack": bounds["upper bound"] - max(trained, int(counts.max())),
        "hidden_units": sum(widths),
        "regions_by_depth": depth_rows,
    }
    if hand is not None:
        out["regions_hand_built"] = hand[0]
    _report(run, cfg, widths, square, out, bounds, depth_rows, (maps, hist))
    return out


def _report(run, cfg, widths, square, out, bounds, depth_rows, paths) -> None:
    rows = [
        {"network": "trained", "regions": out["regions_trained"]},
        {"network": f"random init, mean of {cfg.inits}", "regions": out["regions_init_mean"]},
        {"network": f"random init, max of {cfg.inits}", "regions": out["regions_init_max"]},
    ]
    if "regions_hand_built" in out:
        rows.append({"network": "hand-built construction", "regions": out["regions_hand_built"]})
    rows += [{"network": name, "regions": value} for name, value in bounds.items()]
    text = [
        "## Linear regions",
        f"ReLU network with hidden widths {widths} ({sum(widths)} units) on 2-D inputs, "
        f"counted on a {cfg.grid}x{cfg.grid} grid of the square ({square[0]:g}, "
        f"{square[1]:g})^2: each distinct activation pattern is at least one linear "
        "region, so the counts are lower bounds (exact once every region holds a grid "
        f"point). Random inits: He-normal weights, N(0, {cfg.bias_std:g}^2) biases, "
        f"{cfg.inits} draws seeded by the run's seed.",
        "",
        "Bounds for n0 = 2 inputs: one layer of n units makes at most "
        "sum_{j=0}^{2} C(n, j) regions (8 units: 1 + 8 + 28 = 37); Montufar et al. (2014, "
        "Theorem 4) build deep nets with (prod_{l<L} floor(n_l/n0)^n0) * sum_{j=0}^{n0} "
        "C(n_L, j) regions (two layers of 4: 2^2 * 11 = 44): a count the deep architecture "
        "*attains*, a lower bound on its maximum, not an upper bound; the upper bound is "
        "Serra et al.'s (2018, Theorem 1) sum over J of prod_l C(n_l, j_l) (two layers "
        "of 4: 11 * 11 = 121). The hand-built construction: for one layer, k tangents to a "
        "circle (general position, all crossings inside); for layers of 4, Montufar's "
        "folding net on (0, 1)^2.",
        "",
        report.table(rows),
        "",
        "Growth with depth at random init (same grid and init scale):",
        "",
        report.table(depth_rows),
        report.image("linear regions coloured by activation pattern", paths[0], run.run_dir),
        report.image("region counts over random inits", paths[1], run.run_dir),
    ]
    report.section(run.run_dir, "linear_regions", "\n".join(text))


STAGES.add(
    "linear_regions",
    Stage(
        name="linear_regions",
        applies=lambda cfg: cfg.linear_regions is not None,
        run=run_stage,
        order=45,
    ),
)
