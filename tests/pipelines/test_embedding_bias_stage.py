"""recipes/embedding_bias.yaml end to end on a small generated corpus, `dlzoo
embedding-bias FILE` without training, and the section's user errors (exit status 2).

What is asserted of the trained vectors is exact (debiasing makes the neutral words
orthogonal to g, whatever the vectors are), not learned."""

from __future__ import annotations

import json
import types
from pathlib import Path

import numpy as np
import pytest

from common.errors import UserError
from explain.word2vec_text import read_word2vec_text, write_word2vec_text
from pipelines.config.experiment import validate_config
from pipelines.stages.embedding_bias import run_stage, trained_vectors
from tests.conftest import seeded, small_recipe
from tests.pipelines.test_cli import dlzoo

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "recipes" / "embedding_bias.yaml"
FEMALE = ["she", "her", "mary", "mother", "sister", "girl"]
MALE = ["he", "his", "tom", "father", "brother", "boy"]
JOBS = ["nurse", "teacher", "doctor", "engineer", "lawyer", "pilot", "cook"]
FILLER = ["is", "a", "the", "was", "today", "good", "and", "at", "work", "very"]


def corpus(path: Path, lines: int = 600) -> Path:
    rng = np.random.default_rng(0)
    text = []
    for _ in range(lines):
        person = str(rng.choice(FEMALE + MALE))
        words = [person, *rng.choice(FILLER, 3), str(rng.choice(JOBS))]
        text.append(" ".join(words[:1] + list(rng.permutation(words[1:]))))
    path.write_text("\n".join(text) + "\n")
    return path


def vector_file(path: Path, dim: int = 6) -> Path:
    words = FEMALE + MALE + JOBS + ["woman", "man", "x", "y"]
    vectors = np.random.default_rng(3).normal(size=(len(words), dim))
    return write_word2vec_text(path, words, vectors)


def test_recipe_end_to_end_on_a_generated_corpus(tmp_path, capsys):
    run_dir, given = tmp_path / "run", vector_file(tmp_path / "given.w2v.txt")
    code = dlzoo("run", str(RECIPE), "--run-dir", str(run_dir),
                 "--set", f"data.params.path={corpus(tmp_path / 'corpus.txt')}",
                 "--set", "train.epochs=1", "--set", "data.batch_size=64",
                 "--set", f"seed={seeded(0)}", "--set", f"runs_dir={tmp_path / 'runs'}",
                 "--set", f"embedding_bias.embedding_file={given}")
    assert code == 0, capsys.readouterr().err
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for prefix in ("", "file_"):  # the trained vectors, then the given file
        assert metrics[f"{prefix}occupations_scored"] == len(JOBS)
        assert metrics[f"{prefix}direct_bias_before"] > 1e-3
        assert metrics[f"{prefix}neutral_projection_max_after"] < 1e-6
        assert metrics[f"{prefix}equalize_gap_after"] < 1e-6
        assert metrics[f"{prefix}equalize_gap_before"] > 1e-3
    claim = json.loads((run_dir / "claim.json").read_text())
    assert claim["supported"] is True
    words, vectors = read_word2vec_text(run_dir / "embeddings.w2v.txt")
    assert len(words) == metrics["bias_vocabulary"] and "nurse" in words and "[UNK]" not in words
    debiased_words, _ = read_word2vec_text(run_dir / "embeddings_debiased.w2v.txt")
    assert debiased_words == words
    report = (run_dir / "report.md").read_text()
    assert "Bias in word embeddings" in report and "file given.w2v.txt" in report
    assert report.index("Bias in word embeddings") < report.index("## Claim")
    for name in ("occupation_projections", "gender_pca", "file_occupation_projections"):
        assert (run_dir / "plots" / f"{name}.png").exists()


def test_embedding_bias_command_without_training(tmp_path, capsys):
    out, given = tmp_path / "out", vector_file(tmp_path / "v.txt")
    code = dlzoo("embedding-bias", str(given), "--out", str(out),
                 "--set", "embedding_bias.occupations=[nurse, doctor, pilot]",
                 "--set", "embedding_bias.direction=first_pair")
    assert code == 0
    assert "DirectBias" in capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["occupations_scored"] == 3 and metrics["direct_bias_after"] < 1e-6
    assert "the difference woman - man" in (out / "report.md").read_text()
    code = dlzoo("embedding-bias", str(given), "--recipe", str(RECIPE), "--out",
                 str(tmp_path / "with_recipe"))
    assert code == 0 and (tmp_path / "with_recipe" / "plots" / "gender_pca.png").exists()


@pytest.mark.parametrize("args, message", [
    (["absent.txt"], "embedding file not found"),
    (["{file}", "--set", "embedding_bias.occupations=[]"], "embedding_bias.occupations"),
    (["{file}", "--set", "embedding_bias.occupations=[zebra]"],
     "embedding_bias.occupations: none is in the vocabulary"),
    (["{file}", "--set", "embedding_bias.occupations=[she]"], "gender-specific"),
    (["{file}", "--set", "train.epochs=3"], "only embedding_bias"),
])
def test_embedding_bias_command_user_errors(tmp_path, capsys, args, message):
    given = vector_file(tmp_path / "v.txt")
    code = dlzoo("embedding-bias", *[a.format(file=given) for a in args],
                 "--out", str(tmp_path / "out"))
    assert code == 2
    assert message in capsys.readouterr().err


def test_bad_section_values_name_the_key(tmp_path):
    def error(**section) -> str:
        with pytest.raises(UserError) as info:
            validate_config(small_recipe(tmp_path, embedding_bias=section), source="r.yaml")
        return str(info.value)

    assert "embedding_bias.occupations" in error(occupations=[])
    assert "embedding_bias.definitional_pairs" in error(definitional_pairs=[["she", "she"]])
    assert "one partner only; her" in error(equalize_pairs=[["her", "his"], ["her", "him"]])
    assert "embedding_bias.direction" in error(direction="mean")


def test_missing_embedding_file_and_a_model_without_word_vectors(tmp_path):
    cfg = validate_config(small_recipe(tmp_path, embedding_bias={
        "embedding_file": str(tmp_path / "absent.txt")}), source="r.yaml")
    run = types.SimpleNamespace(cfg=cfg, task=types.SimpleNamespace(name="classify"))
    with pytest.raises(UserError, match="embedding file .* not found"):
        run_stage(run)
    with pytest.raises(UserError, match="has no word vectors; train model.name: skipgram"):
        trained_vectors(run)
