"""The search report's text: the setup, the results, and exactly how the best model
is obtained (KerasTuner users often cannot tell: keras-tuner #548, #689, #1020)."""

from __future__ import annotations

import math
from typing import Any

from common import report
from pipelines.config.experiment import ExperimentConfig
from tuning.results import within_one_error
from tuning.robust import ROBUST_METRIC

TOP = 10  # rows of the results table shown in the report (all are in results.csv)


def hyperband_budget(max_epochs: int, factor: int) -> float:
    """KerasTuner's documented estimate of one Hyperband iteration's cumulative
    epochs: max_epochs * (log_factor(max_epochs))^2."""
    return max_epochs * math.log(max_epochs, factor) ** 2 if max_epochs > 1 else 1.0


def budget_text(cfg: ExperimentConfig, max_epochs: int) -> str:
    tune = cfg.tune
    if tune.tuner == "hyperband":
        text = (
            f"Hyperband with max_epochs {max_epochs}, factor {tune.factor}, "
            f"{tune.hyperband_iterations} iteration(s): about "
            f"max_epochs * (log_factor max_epochs)^2 = "
            f"{hyperband_budget(max_epochs, tune.factor):.0f} epochs per iteration "
            "(KerasTuner's estimate)"
        )
        if tune.max_trials:
            text += f", at most {tune.max_trials} trials"
    else:
        text = f"{tune.max_trials or 10} trials of up to {max_epochs} epochs"
    if tune.early_stopping:
        text += f"; a trial stops after {tune.early_stopping.patience} epochs without improvement"
    if tune.max_time:
        text += f"; no trial starts after {tune.max_time:g} s"
    return text


def space_rows(oracle) -> list[dict[str, Any]]:
    """The oracle's search space: one row per hyperparameter."""
    rows = []
    for hp in oracle.hyperparameters.space:
        conf = hp.get_config()
        kind = type(hp).__name__
        if kind == "Choice":
            values = ", ".join(str(v) for v in conf["values"])
        elif kind in ("Int", "Float"):
            values = f"[{conf['min_value']:g}, {conf['max_value']:g}]"
            if conf.get("step"):
                values += f" step {conf['step']:g}"
            if conf.get("sampling") == "log":
                values += " (log)"
        elif kind == "Boolean":
            values = "False, True"
        else:
            values = str(conf.get("value"))
        when = " and ".join(f"{c.name} in {list(c.values)}" for c in hp.conditions)
        rows.append({"hyperparameter": hp.name, "kind": kind, "values": values, "when": when})
    return rows


def overview(cfg: ExperimentConfig, oracle, max_epochs: int, sizes: dict[str, int]) -> str:
    tune = cfg.tune
    seed = cfg.seed if tune.seed is None else tune.seed
    return "\n".join(
        [
            f"# {cfg.name} (search)",
            cfg.description.strip(),
            "",
            f"KerasTuner `{tune.tuner}` search, objective `{tune.objective}` "
            f"({tune.resolved_direction}); budget: {budget_text(cfg, max_epochs)}. "
            f"Search seed {seed}; every trial builds its model with the recipe's seed "
            f"{cfg.seed}.",
            "",
            "Each trial is the recipe (`config.yaml`) with the sampled values applied, "
            f"trained on the train split ({sizes.get('train')} examples) and scored on "
            f"the validation split ({sizes.get('val')} examples). The test split "
            f"({sizes.get('test')} examples) is not used by the search. KerasTuner's "
            "project (oracle state, one folder per trial) is `search/`: running the "
            "same command again continues the search.",
            "",
            "### Search space",
            report.table(space_rows(oracle)),
        ]
    )


def results(rows: list[dict], ranked: list[dict], cfg: ExperimentConfig, plot_md: str) -> str:
    done = len(ranked)
    epochs = sum(r.get("epochs") or 0 for r in rows)
    seconds = sum(r.get("seconds") or 0 for r in rows)
    other = {r["status"] for r in rows} - {"COMPLETED"}
    lines = [
        "## Search results",
        f"{len(rows)} trials started, {done} completed"
        + (f" (others: {', '.join(sorted(other))})" if other else "")
        + f"; {epochs:.0f} epochs trained in all, {seconds:.0f} s of training.",
        f"Best {min(TOP, done)} by `{cfg.tune.objective}` (all trials: `results.csv`, "
        "`results.md`):\n",
        report.table(ranked[:TOP], _columns(ranked[:TOP])),
        uncertainty(ranked, cfg),
        plot_md,
        memory(rows),
    ]
    return "\n".join(lines)


def starting_point(rows: list[dict], missed: set[str]) -> str:
    """Trial 0 is the recipe itself: where the search started, and how it compares."""
    if not rows:
        return ""
    first = rows[0]
    text = ("\nTrial 0 is the recipe's own configuration (every hyperparameter starts at the "
            "recipe's value)")
    if missed:
        text += (", except where the search space cannot express the recipe's value: "
                 + ", ".join(f"`{k}`" for k in sorted(missed)) + " (trial 0 uses the "
                 "space's default there)")
    if first.get("score") is not None:
        text += f"; it scored {first['score']:.4f}"
    return text + ".\n"


def uncertainty(ranked: list[dict], cfg: ExperimentConfig) -> str:
    """How sure the winner is: its score's standard error and the trials it does not
    beat by more than that (cross-validated searches)."""
    key = f"{cfg.tune.objective}_sem"
    if not ranked or key not in ranked[0]:
        return ("\nEach score is one training run on one validation split (no `tune.cv`): "
                "differences of a few validation examples are within chance.\n")
    pick = max if cfg.tune.resolved_direction == "max" else min
    top, winner = pick(ranked, key=lambda r: r["score"]), ranked[0]
    tied = within_one_error(ranked, top, cfg.tune.objective)
    return (
        f"\nScores are means over {cfg.tune.cv} cross-validation folds of train+validation, "
        f"+- their standard error. Best mean: trial {top['trial']}, {top['score']:.4f} +- "
        f"{top[key]:.4f}; {len(tied)} trial(s) lie within one standard error of it, and the "
        f"smallest of them wins (the one-standard-error rule): trial {winner['trial']}, "
        f"{winner['score']:.4f} +- {winner[key]:.4f}, {winner['params']:.0f} parameters.\n"
    )


def _columns(rows: list[dict]) -> list[str]:
    out: list[str] = []
    for row in rows:
        out += [k for k in row if k not in out and k != "status"]
    return out


def memory(rows: list[dict]) -> str:
    rss = [r["rss_mb"] for r in rows if r.get("rss_mb")]
    if len(rss) < 2:
        return ""
    return (
        f"Memory (resident set size of the process after each trial; the session is "
        f"cleared between trials): first {rss[0]:.0f} MB, last {rss[-1]:.0f} MB, "
        f"peak {max(rss):.0f} MB.\n"
    )


def best_model(best_row: dict, best_cfg: ExperimentConfig, cfg: ExperimentConfig) -> str:
    where = (
        "the train and validation splits together (`data.train_on_val: true`), with no "
        "checkpoint selection or early stopping since no held-out validation is left"
        if best_cfg.data.train_on_val
        else "the train split, as in the search"
    )
    values = {k: v for k, v in best_row.items() if "/" in k or "." in k}
    return "\n".join(
        [
            "## How the best model is obtained",
            f"Trial {best_row['trial']} scored {cfg.tune.objective} = {best_row['score']:.4f} "
            f"on the validation split at epoch {best_row.get('best_epoch', 0):.0f} "
            f"(hyperparameters: {', '.join(f'{k}={v}' for k, v in values.items())}).",
            "",
            "`best_config.yaml` is a complete recipe with those values. "
            "`dlzoo run best_config.yaml` does not reuse any weights from the search: it "
            f"builds the model from scratch with seed {best_cfg.seed}, trains it for "
            f"{best_cfg.train.epochs} epochs ("
            + ("the trial's best epoch" if best_cfg.train.schedule.name == "constant" else
               f"the trial's whole `{best_cfg.train.schedule.name}` schedule: a decaying rate "
               "depends on the run's length") + f") on {where}, then "
            "evaluates it on the test split, which no trial has seen, and exports it to "
            f"`{best_cfg.export.dir}/{best_cfg.export.name}`. The search's own weights "
            f"(`search/trial_{best_row['trial']}/checkpoint.weights.h5`, best epoch, "
            "train split only) are kept for inspection but are not the exported model.",
        ]
    )


def front(front_rows: list[dict], cfg: ExperimentConfig, plot_md: str) -> str:
    rob = cfg.tune.robustness
    cols = ["trial", "val_accuracy", ROBUST_METRIC, "replay"]
    return "\n".join(
        [
            "## Clean vs robust accuracy: Pareto front",
            f"Every trial also logged `{ROBUST_METRIC}`: validation accuracy under "
            f"`{rob.attack}` with epsilon {rob.epsilon:g} (raw input units, "
            f"{rob.max_examples} examples at most). The search's scalar objective is "
            f"`{cfg.tune.objective}`; the trials below are the ones no other trial beats on "
            "both accuracies. Pick a trade-off and replay its recipe.\n",
            report.table(front_rows, cols),
            plot_md,
        ]
    )
