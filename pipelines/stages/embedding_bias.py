"""The `embedding_bias:` stage: the lecture's "man is to woman what the programmer is to
... ?" (Bolukbasi et al. 2016) on the skip-gram vectors a run trained, and on any
word2vec text file (`embedding_bias.embedding_file`, or `dlzoo embedding-bias FILE`
without training).

For each embedding: the 3CosAdd analogy probes, the gender direction g from the
definitional pairs, each occupation's cos(w, g), the mean |cos| and DirectBias_c, then
hard debiasing (neutralize, equalize) and the same numbers again. The trained vectors
are written as `embeddings.w2v.txt` (and the debiased ones as
`embeddings_debiased.w2v.txt`), in the format the file path reads, so the two meet.

Metrics (trained vectors; `file_` before each name for the file's): `direct_bias_before`,
`direct_bias_after`, `mean_abs_projection_before/_after`, `neutral_projection_max_before/
_after` (largest |cos(w, g)| over every neutralized word), `equalize_gap_before/_after`
(largest | |w - a| - |w - b| | over the equalized pairs and neutral words),
`gender_direction_variance` (share of the pairs' variance on g),
`definitional_pairs_aligned` (pairs whose female word lies on the positive side of g),
`direct_bias_random_direction` (the occupations' DirectBias on random directions),
`occupations_scored`, `corpus_tokens` (in-vocabulary tokens of the training split).
"""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pydantic

from common import report
from common.errors import UserError
from explain.embedding_bias import (
    Embedding,
    analogy,
    direct_bias,
    equidistance_gap,
    gender_direction,
    gender_plane,
    hard_debias,
    projections,
    random_direction_bias,
)
from explain.word2vec_text import read_word2vec_text, write_word2vec_text
from pipelines.config.embedding_bias import EmbeddingBiasConfig, EmbeddingBiasOnly
from pipelines.config.experiment import ExperimentConfig, format_errors, set_path
from pipelines.data.source import resolve_path
from pipelines.data.text import Vocabulary
from pipelines.report import embedding_plots
from pipelines.report import metrics as run_metrics
from pipelines.stages.registry import STAGES, Stage

if TYPE_CHECKING:
    from pipelines.run import Run


@dataclasses.dataclass
class Analysis:
    """Where a standalone analysis writes (the run-folder fields `metrics.record` uses)."""

    run_dir: Path
    metrics: dict[str, Any] = dataclasses.field(default_factory=dict)


def trained_vectors(run: Run) -> tuple[list[str], np.ndarray]:
    """The skip-gram word (input) vectors, without the padding and [UNK] rows."""
    if run.task.name != "skipgram":
        raise UserError(
            f"embedding_bias: the run's model {run.cfg.model.name!r} ({run.task.name} task) "
            "has no word vectors; train model.name: skipgram, or analyse a file with "
            "`dlzoo embedding-bias FILE`")
    vocab = Vocabulary.from_dict(run.bundle.spec.extra["text"])
    vectors = np.asarray(run.model.get_layer("word_embedding").embeddings)
    return list(vocab.tokens[2:]), vectors[2:]


@dataclasses.dataclass(frozen=True)
class Words:
    """The words of the section that one embedding has, sorted into their roles."""

    pairs: list[tuple[str, str]]  # definitional pairs present (define g)
    occupations: list[str]  # occupations present (scored)
    missing: list[str]  # occupations absent
    neutral: list[str]  # neutralized
    equalized: list[tuple[str, str]]  # equalize pairs present

    @classmethod
    def select(cls, emb: Embedding, cfg: EmbeddingBiasConfig, label: str) -> Words:
        pairs = [(a, b) for a, b in cfg.definitional_pairs if a in emb and b in emb]
        occupations = emb.present(cfg.occupations)
        for what, found in (("definitional_pairs", pairs), ("occupations", occupations)):
            if not found:
                raise UserError(f"embedding_bias.{what}: none is in the vocabulary of "
                                f"{label} ({len(emb.words)} words); give words it has")
        specific = cfg.specific_words()
        neutral = ([w for w in emb.words if w not in specific] if cfg.neutralize == "all"
                   else occupations)
        return cls(pairs, occupations, [w for w in cfg.occupations if w not in emb], neutral,
                   [(a, b) for a, b in cfg.equalize_pairs if a in emb and b in emb])


def analyse(emb: Embedding, cfg: EmbeddingBiasConfig, out_dir: Path, *, label: str,
            prefix: str = "", counts: dict[str, int] | None = None
            ) -> tuple[dict, str, Embedding]:
    """Every number and figure of one embedding: (metrics, report markdown, the
    debiased embedding)."""
    words = Words.select(emb, cfg, label)
    g, ratios = gender_direction(emb, words.pairs, method=cfg.direction)
    debiased = hard_debias(emb, g, neutral=words.neutral, equalize=words.equalized)
    states = {"before": emb, "after": debiased}
    occ = {k: projections(e, words.occupations, g) for k, e in states.items()}
    metrics: dict[str, Any] = {
        "bias_vocabulary": len(emb.words),
        "occupations_scored": len(words.occupations),
        "gender_direction_variance": float(ratios[0]),
        "definitional_pairs_aligned": sum(
            float((emb.vector(a) - emb.vector(b)) @ g) > 0 for a, b in words.pairs),
        "direct_bias_random_direction": random_direction_bias(
            emb, words.occupations, c=cfg.direct_bias_c),
    }
    for k, e in states.items():
        metrics[f"direct_bias_{k}"] = direct_bias(occ[k], cfg.direct_bias_c)
        metrics[f"mean_abs_projection_{k}"] = float(np.mean(np.abs(occ[k])))
        metrics[f"neutral_projection_max_{k}"] = float(
            np.abs(projections(e, words.neutral, g)).max())
        metrics[f"equalize_gap_{k}"] = equidistance_gap(e, words.equalized, words.neutral)
    metrics["occupation_projections"] = {
        w: [float(occ["before"][i]), float(occ["after"][i])]
        for i, w in enumerate(words.occupations)}
    metrics["analogy_probes"] = _probes(states, cfg)
    figures = _figures(states, words, g, occ, out_dir / "plots", prefix, label)
    text = _markdown(metrics, cfg, label, words, ratios, counts or {}, figures, out_dir)
    return {f"{prefix}{k}": v for k, v in metrics.items()}, text, debiased


def _figures(states, words: Words, g, occ, plots: Path, prefix: str, label: str) -> list[Path]:
    bars = embedding_plots.projection_bars(
        words.occupations, occ["before"], occ["after"],
        plots / f"{prefix}occupation_projections.png",
        f"{label}: occupations on the gender direction")
    gendered = [w for pair in words.pairs for w in pair]
    female = {a for a, _ in words.pairs}
    shown = list(dict.fromkeys(gendered + words.occupations))
    groups = ["female" if w in female else "male" if w in gendered else "occupation"
              for w in shown]
    plane = embedding_plots.gender_map(
        gender_plane(list(states.values()), shown, g), shown, groups,
        ["before debiasing", "after hard debiasing (same axes)"],
        plots / f"{prefix}gender_pca.png", f"{label}: gendered and occupation words")
    return [bars, plane]


def _probes(states: dict[str, Embedding], cfg: EmbeddingBiasConfig) -> list[dict[str, str]]:
    rows = []
    for a, b, c in cfg.analogies:
        row = {"probe": f"{a} : {b} :: {c} : ?"}
        missing = [w for w in (a, b, c) if w not in states["before"]]
        for k, e in states.items():
            row[k] = (f"(not in the vocabulary: {', '.join(missing)})" if missing else
                      ", ".join(f"{w} ({s:.2f})" for w, s in analogy(e, a, b, c, k=cfg.top_k)))
        rows.append(row)
    return rows


def _markdown(m: dict[str, Any], cfg: EmbeddingBiasConfig, label: str, words: Words,
              ratios: np.ndarray, counts: dict[str, int], figures: list[Path],
              out_dir: Path) -> str:
    pairs = words.pairs
    rows = [{"word": w, "count": counts.get(w, ""), "cos before": v[0], "cos after": v[1]}
            for w, v in sorted(m["occupation_projections"].items(), key=lambda kv: kv[1][0])]
    how = ("the first principal component of the pairs' centred vectors (Bolukbasi et al.)"
           if cfg.direction == "pca" else f"the difference {pairs[0][0]} - {pairs[0][1]}")
    scores = [
        {"": "mean abs cos(w, g), occupations", "before": m["mean_abs_projection_before"],
         "after": m["mean_abs_projection_after"]},
        {"": f"DirectBias_c, c = {cfg.direct_bias_c:g}", "before": m["direct_bias_before"],
         "after": m["direct_bias_after"]},
        {"": "DirectBias_c on random directions (yardstick)",
         "before": m["direct_bias_random_direction"], "after": ""},
        {"": f"max abs cos(w, g), {len(words.neutral)} neutralized words",
         "before": m["neutral_projection_max_before"],
         "after": m["neutral_projection_max_after"]},
        {"": f"max equidistance gap, {len(words.equalized)} equalized pairs",
         "before": m["equalize_gap_before"], "after": m["equalize_gap_after"]},
    ]
    return "\n".join([
        f"### {label}",
        f"{m['bias_vocabulary']} words. Gender direction g: {how}, from "
        f"{len(pairs)} definitional pair(s) ({', '.join(f'{a}-{b}' for a, b in pairs)}); "
        f"it carries {ratios[0]:.1%} of their variance"
        + (f" (next component {ratios[1]:.1%})" if len(ratios) > 1 else "")
        + f", and {m['definitional_pairs_aligned']} of the {len(pairs)} pairs have their "
        "female word on the positive side (a well-trained embedding has all of them "
        "there, and most of the variance on the first component).",
        f"Occupations scored: {m['occupations_scored']} of {len(cfg.occupations)}"
        + (f" (not in the vocabulary: {', '.join(words.missing)})" if words.missing else "")
        + ".\n",
        report.table(scores),
        "Analogy probes (3CosAdd, the query words excluded; cosine in brackets):\n",
        report.table(m["analogy_probes"], ["probe", "before", "after"]),
        "After equalizing, b - a of an equalized pair lies along g alone, so 3CosAdd answers "
        "with the nearest gender-specific word: debiasing removes the gender component from "
        "the neutral words, not the gender from the question.\n",
        "Projections of the occupations (count: occurrences in the training split):\n",
        report.table(rows, ["word", "count", "cos before", "cos after"] if counts
                     else ["word", "cos before", "cos after"]),
        report.image("occupation projections", figures[0], out_dir),
        "The definitional pairs' words and the occupations: across, cos(w, g); up, the "
        "first principal component of the vectors' part orthogonal to g (a 2-D PCA with "
        "the gender direction fixed as the first axis, fitted before debiasing and kept "
        "after). Neutralized words move onto the vertical line.\n",
        report.image("gender PCA", figures[1], out_dir),
    ])


HEADER = ("## Bias in word embeddings (Bolukbasi et al. 2016)\n"
          "The lecture: embeddings trained on human text answer \"man is to woman what the "
          "programmer is to ... ?\" with a stereotype, and occupations lie along a gender "
          "direction; hard debiasing removes that component from gender-neutral words "
          "(neutralize) and centres the gendered pairs on them (equalize).\n")


def run_stage(run: Run) -> dict[str, Any]:
    cfg = run.cfg.embedding_bias
    file = (resolve_path(run.cfg.data.resolved_data_dir(), cfg.embedding_file,
                         what="embedding file (embedding_bias.embedding_file)")
            if cfg.embedding_file else None)
    words, vectors = trained_vectors(run)
    write_word2vec_text(run.run_dir / "embeddings.w2v.txt", words, vectors)
    emb = Embedding.from_vectors(words, vectors)
    counts = dict(zip(words, run.bundle.spec.extra["counts"][2:]))
    tokens = sum(counts.values())
    metrics, text, debiased = analyse(emb, cfg, run.run_dir,
                                      label="trained skip-gram vectors", counts=counts)
    metrics["corpus_tokens"] = tokens
    write_word2vec_text(run.run_dir / "embeddings_debiased.w2v.txt", words, debiased.unit)
    parts = [HEADER, f"**Corpus size.** The vectors were trained on {tokens:,} in-vocabulary "
             f"tokens ({len(words)} words). Embeddings of the paper were trained on ~100 "
             "billion words (Google News): at this size the projections and analogies are "
             "noisy and say little about bias in the text; the effect of debiasing (neutral "
             "words' projection -> 0, pairs equidistant) is exact at any size.\n", text]
    if file is not None:
        file_metrics, file_text, _ = analyse(_read(file), cfg, run.run_dir,
                                             label=f"file {file.name}", prefix="file_")
        metrics.update(file_metrics)
        parts.append(file_text)
    report.section(run.run_dir, "embedding_bias", "\n".join(parts))
    return metrics


def bias_settings(cfg: ExperimentConfig | None,
                  overrides: list[tuple[str, Any]]) -> EmbeddingBiasConfig:
    """The recipe's section (the defaults if it has none); without a recipe, the defaults
    with the `embedding_bias.<key>` overrides, validated like a recipe's."""
    if cfg is not None:
        return cfg.embedding_bias or EmbeddingBiasConfig()
    raw: dict[str, Any] = {}
    for key, value in overrides:
        if not key.startswith("embedding_bias."):
            raise UserError(f"--set {key}: without a recipe only embedding_bias.<key> "
                            "settings apply")
        set_path(raw, key, value)
    try:
        return EmbeddingBiasOnly.model_validate(raw).embedding_bias
    except pydantic.ValidationError as err:
        raise UserError("embedding-bias settings: invalid\n"
                        + format_errors(err, EmbeddingBiasOnly)) from None


def analyse_file(file: Path, cfg: EmbeddingBiasConfig, out_dir: Path | None) -> Analysis:
    """`dlzoo embedding-bias FILE`: the analysis alone, into `out_dir` (default
    runs/embedding_bias/<timestamp>)."""
    emb = _read(file)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    result = Analysis(Path(out_dir or Path("runs") / "embedding_bias" / stamp))
    metrics, text, debiased = analyse(emb, cfg, result.run_dir,
                                      label=f"file {Path(file).name}")
    write_word2vec_text(result.run_dir / "embeddings_debiased.w2v.txt", emb.words,
                        debiased.unit)
    report.section(result.run_dir, "embedding_bias", HEADER + "\n" + text)
    run_metrics.record(result, metrics)
    return result


def _read(file: Path) -> Embedding:
    words, vectors = read_word2vec_text(file)
    return Embedding.from_vectors(words, vectors)


STAGES.add(
    "embedding_bias",
    Stage(name="embedding_bias", applies=lambda cfg: cfg.embedding_bias is not None,
          run=run_stage, order=65),
)
