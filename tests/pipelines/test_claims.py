"""Claims: the expression language, labelled sweep variants, and the report's verdict."""

from __future__ import annotations

import json

import pytest

from common.errors import UserError
from pipelines import run as pipeline
from pipelines.stages.claim_expr import ClaimError, Variants, evaluate, parse
from pipelines.sweep import run_sweep, variants

LOSS = Variants(
    "final_loss", {"optimizer=sgd": 0.9, "optimizer=adam": 0.2, "optimizer=momentum": 0.3}
)


def test_expressions_index_variants_by_label_value_or_position():
    names = {"final_loss": LOSS, "budget": 10}
    assert evaluate("final_loss['sgd'] > max(final_loss['adam'], final_loss[2])", names)[0]
    assert evaluate("final_loss['optimizer=adam'] == min(final_loss)", names)[0]
    assert evaluate("argmin(final_loss) == 'optimizer=adam' and 0 < budget - 9 <= 1", names)[0]
    value, used = evaluate("not final_loss['adam'] * 2 > final_loss['sgd']", names)
    assert value is True and used == {"final_loss['adam']": 0.2, "final_loss['sgd']": 0.9}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os').system('true')", "only min"),
        ("final_loss.values", "Attribute is not allowed"),
        ("[x for x in final_loss]", "ListComp is not allowed"),
        ("lambda: 1", "Lambda is not allowed"),
        ("final_loss['sgd'] >", "not a valid expression"),
    ],
)
def test_anything_but_arithmetic_and_comparisons_is_refused(text, message):
    with pytest.raises(ClaimError, match=message):
        parse(text)


def test_unknown_names_and_labels_say_what_exists():
    with pytest.raises(ClaimError, match="unknown name 'final_los'.*known: final_loss"):
        evaluate("final_los['sgd'] > 0", {"final_loss": LOSS})
    with pytest.raises(ClaimError, match="no such variant.*'optimizer=sgd'"):
        evaluate("final_loss['rmsprop'] > 0", {"final_loss": LOSS})


def test_a_bad_claim_fails_at_load(make_config):
    with pytest.raises(UserError, match="claim.check: only min, max"):
        make_config(claim={"text": "t", "check": "open('x')"})


def test_variants_bundle_overrides_under_one_label(make_config):
    cfg = make_config(
        sweep={"variants": [{"label": "base"}, {"label": "l2", "train.l2": 0.01}], "seed": [0, 1]}
    )
    assert variants(cfg) == [
        ("base,seed=0", {"seed": 0}),
        ("base,seed=1", {"seed": 1}),
        ("l2,seed=0", {"train.l2": 0.01, "seed": 0}),
        ("l2,seed=1", {"train.l2": 0.01, "seed": 1}),
    ]
    with pytest.raises(UserError, match="needs a `label`"):
        variants(make_config(sweep={"variants": [{"train.l2": 0.01}]}))


def test_sweep_report_says_whether_the_run_supports_its_claim(make_config, tmp_path):
    cfg = make_config(
        train={"epochs": 3, "optimizer": {"name": "adam", "learning_rate": 0.01}, "backup": False},
        sweep={
            "variants": [
                {"label": "tiny", "model.params.width": 1},
                {"label": "wide", "model.params.width": 64},
            ]
        },
        claim={
            "text": "A wider hidden layer learns the digits better.",
            "check": "test_accuracy['wide'] > test_accuracy['tiny'] + 0.2",
        },
    )
    runs = run_sweep(cfg, tmp_path / "sweep")
    claim = json.loads((tmp_path / "sweep" / "claim.json").read_text())
    assert claim["supported"] is True
    assert set(claim["values"]) == {"test_accuracy['wide']", "test_accuracy['tiny']"}
    report = (tmp_path / "sweep" / "report.md").read_text()
    assert "A wider hidden layer" in report and "**supported**" in report
    assert not any((run.run_dir / "claim.json").exists() for _, run in runs)  # once, at the top


def test_single_run_claim_and_early_stopping_mark(make_config):
    cfg = make_config(
        data={"source": "digits", "per_class": 10, "batch_size": 16},
        model={"name": "mlp", "params": {"depth": 2, "width": 256}},
        train={
            "epochs": 60,
            "optimizer": {"name": "adam", "learning_rate": 0.003},
            "early_stopping": {"monitor": "val_loss", "patience": 3},
            "backup": False,
        },
        claim={
            "text": "Early stopping halts before the budget.",
            "check": "epochs < budget_epochs and best_epoch == epochs - 3",
        },
    )
    run = pipeline.run_all(cfg)
    assert run.metrics["claim_supported"] is True
    report = (run.run_dir / "report.md").read_text()
    assert "Early stopping on val_loss (patience 3): stopped after" in report
    assert "**supported**" in report


@pytest.mark.parametrize("check", ["min('') > 0", "'ab'[5] == 'c'", "'a' * 1000000 * 1000000 > 0"])
def test_a_claim_that_cannot_be_evaluated_is_reported_and_the_export_still_happens(
    make_config, tmp_path, check
):
    cfg = make_config(
        claim={"text": "an odd claim", "check": check},
        export={"enabled": True, "dir": str(tmp_path / "saved"), "name": "odd"},
        train={"epochs": 1, "checkpoint": False},
    )
    run = pipeline.run_all(cfg)
    claim = json.loads((run.run_dir / "claim.json").read_text())
    assert claim["supported"] is None and claim["problem"]
    assert "not checked" in (run.run_dir / "report.md").read_text()
    assert list((tmp_path / "saved" / "odd").glob("1/saved_model.pb"))


def test_a_claim_naming_a_missing_history_key_stops_after_the_first_epoch(make_config):
    cfg = make_config(claim={"text": "typo", "check": "final_val_acc > 0.5"},
                      train={"epochs": 5, "checkpoint": False})
    with pytest.raises(UserError, match=r"final_val_acc.*logs .*val_accuracy"):
        pipeline.train(cfg)
